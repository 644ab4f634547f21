"""`cryptopay-auth migrate-data --to postgresql://...` (README, "Moving from
SQLite to PostgreSQL"), step by step as an admin would: a service on SQLite
filled through the API, stopped, its data copied into a fresh PostgreSQL
database, started again on that database with the same key, and then every
user logs in, every refresh token issued before the move refreshes, a
logged-out one stays refused, and new rows get new ids.

It needs both engines at once, whatever CPA_E2E_DATABASE says: the service
starts on SQLite, the target is a database on the process's PostgreSQL
server (harness.postgres_server()). Without PostgreSQL it fails, never
skips; tests/CMakeLists.txt runs it in the pg row only."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.parse

import harness

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
TABLES = ["users", "codes", "code_decoys", "throttle_events", "tokens", "sessions", "outbox"]


def sqlite_counts(service):
    with service.db() as db:
        return {t: db.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in TABLES}


def reported_counts(stdout):
    """{"users": 5, ...} from the summary line: "...: users 5, codes 1, ... (rows ...)"."""
    first = stdout.splitlines()[0]
    return {name: int(n) for name, n in re.findall(r"(\w+) (\d+)(?=,| \()", first)}


def as_bytes(value):
    # SQLite keeps what was stored: a BLOB when sealed, TEXT once emptied
    # (sent); PostgreSQL's BYTEA arrives as a memoryview.
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def outbox_rows(db):
    return [(r[0], r[1], r[2], bool(r[3]), as_bytes(r[4]), as_bytes(r[5])) for r in db.execute(
        "SELECT id, status, attempts, sealed, subject, body FROM outbox ORDER BY id").fetchall()]


class MovingOver(harness.ServiceTestCase):
    """The whole move, in the order README gives it."""

    @classmethod
    def setUpClass(cls):
        # PostgreSQL first: a server that cannot start fails the class here.
        cls.pg = harness.postgres_server()
        cls.root = tempfile.mkdtemp(prefix="cpa-move-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.sink = harness.SmtpSink(cls.root).start()
        cls.addClassCleanup(cls.sink.stop)
        cls.service = harness.Service(cls.root, cls.sink)
        cls.service.database_url = None  # the source: SQLite, whatever the row
        cls.addClassCleanup(cls.service.stop)
        cls.service.start()

    def refresh(self, token):
        return self.api("POST", "token/refresh/", {"refresh": token})

    def test_move_then_every_user_logs_in_and_every_session_goes_on(self):
        # --- on SQLite: users, a PIN, sessions, a rotation, a logout, a
        # pending code and mail (sent and failed).
        users = [self.create_user() for _ in range(4)]
        sessions = {email: self.login(email, password) for email, password in users}
        pin_email = users[0][0]
        r = self.api("POST", "set-pin/", {"pin": "2468", "repeat_pin": "2468"},
                     token=sessions[pin_email]["access"])
        self.assertEqual(r.status, 200, r)
        rotated_email = users[1][0]
        r = self.refresh(sessions[rotated_email]["refresh"])
        self.assertEqual(r.status, 200, r)
        sessions[rotated_email] = r.json()  # the pair the rotation gave
        logged_out_email = users[2][0]
        logged_out = self.login(logged_out_email, users[2][1])
        r = self.api("POST", "token/blacklist/", {"refresh": logged_out["refresh"]})
        self.assertEqual(r.status, 200, r)
        pending_email = self.unique_email("pending")
        pending_code = self.register(pending_email)
        bounced = "bounce%d%s" % (os.getpid(), harness.REJECTED_DOMAIN)
        self.assertEqual(self.api("POST", "users/", {"email": bounced, "terms_accepted": True})
                         .status, 201)
        def bounce_failed():
            with self.service.db() as db:
                return db.execute("SELECT count(*) FROM outbox WHERE status = 'failed'"
                                  ).fetchone()[0] == 1
        harness.wait_until(bounce_failed, 30, what="the bounced mail to be failed")

        # --- refused while the service runs: nothing is created in the target.
        target = self.pg.create_database("move")
        r = self.service.cli("migrate-data", "--to", target)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r)
        self.assertRegex(r.stderr, r"^cryptopay-auth migrate-data: the service is running \(pid "
                                   r"\d+ in .*cryptopay-auth\.pid is alive.*\): stop the service "
                                   r"first\n$")
        database = urllib.parse.urlparse(target).path.lstrip("/")
        self.assertEqual(self.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                      "'public'", database), "0\n")

        # --- stop, copy.
        self.assertEqual(self.service.stop(), 0)
        expected = sqlite_counts(self.service)
        self.assertEqual(expected["users"], 6)  # four, the pending one and the bounced one
        self.assertGreaterEqual(expected["tokens"], 10)
        with self.service.db() as db:
            old_ids = [row[0] for row in db.execute("SELECT id FROM users").fetchall()]
            source_mail = outbox_rows(db)
        r = self.service.cli("migrate-data", "--to", target)
        self.assertEqual((r.returncode, r.stderr), (0, ""), r)
        self.assertEqual(reported_counts(r.stdout), expected, r.stdout)
        self.assertIn("copied %s into %s: " % (os.path.realpath(self.service.db_path), target),
                      r.stdout)
        self.assertIn("the secret key is not in the database", r.stdout)
        with harness.PgConnection(target) as db:
            self.assertEqual(outbox_rows(db), source_mail)  # sealed bytes as they were
            for table, n in expected.items():
                self.assertEqual(db.execute("SELECT count(*) FROM %s" % table).fetchone()[0], n,
                                 table)
        # Its audit line, in the log of the state it copied.
        with open(os.path.join(self.service.state_dir, "auth.log")) as f:
            self.assertIn("admin: migrate-data --to %s by " % target, f.read())

        # --- again: the target holds rows now.
        r = self.service.cli("migrate-data", "--to", target)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r)
        self.assertEqual(r.stderr, "cryptopay-auth migrate-data: the target database is not "
                         "empty: its users table has 6 row(s) (%s)\n" % target)

        # --- start on PostgreSQL, the same key (AUTH_SECRET_KEY, unchanged).
        self.service.database_url = target
        self.service.start()
        for email, password in users:
            with self.subTest(login=email):
                self.login(email, password)
        for email, tokens in sessions.items():
            with self.subTest(session=email):
                # The access and the refresh token issued before the move.
                r = self.api("GET", "users/me/", token=tokens["access"])
                self.assertEqual((r.status, r.json()["email"]), (200, email), r)
                r = self.refresh(tokens["refresh"])
                self.assertEqual(r.status, 200, r)
        self.assertBody(self.refresh(logged_out["refresh"]), 401, BLACKLISTED)
        access = self.login(pin_email)["access"]
        self.assertBody(self.api("POST", "verify-pin/", {"pin": "2468"}, token=access), 200,
                        {"detail": "PIN is valid."})
        self.assertTrue(self.api("GET", "users/me/", token=access).json()["has_pin"])
        r = self.api("POST", "verify-code/", {"email": pending_email, "code": pending_code,
                                              "purpose": "email_verification"})
        self.assertEqual(r.status, 200, r)
        r = self.api("POST", "users/", {"email": self.unique_email("after"),
                                        "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        self.assertGreater(r.json()["id"], max(old_ids))


class Refusals(unittest.TestCase):
    """What migrate-data refuses before copying anything."""

    @classmethod
    def setUpClass(cls):
        cls.pg = harness.postgres_server()

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cpa-move-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        self.env.update({"CRYPTOPAY_AUTH_CONFIG": "",
                         "AUTH_STATE_DIR": os.path.join(self.root, "state"),
                         "AUTH_SECRET_KEY": harness.TEST_SECRET})
        self.assertEqual(self.cli("migrate").returncode, 0)

    def cli(self, *args, **env):
        return subprocess.run([harness.BINARY, *args], env=dict(self.env, **env),
                              capture_output=True, text=True, timeout=60)

    def test_a_url_that_is_not_postgresql(self):
        for url in (os.path.join(self.root, "copy.db"), "mysql://u:secret@h/db"):
            with self.subTest(url=url):
                r = self.cli("migrate-data", "--to", url)
                self.assertEqual((r.returncode, r.stdout), (2, ""), r)
                self.assertEqual(r.stderr, "cryptopay-auth migrate-data: --to must be a "
                                 "postgresql:// (or postgres://) URL, got '%s' (see --help)\n"
                                 % url.replace(":secret@", ":***@"))
        r = self.cli("migrate-data")
        self.assertEqual(r.returncode, 2, r)

    def test_a_target_with_rows(self):
        target = self.pg.create_database("taken")
        # A deployment already on it: one account.
        r = subprocess.run([harness.BINARY, "createsuperuser", "--email", "root@example.com"],
                           input="Corr3ct-Horse-battery\n", capture_output=True, text=True,
                           env=dict(self.env, AUTH_DATABASE_URL=target,
                                    AUTH_PBKDF2_ITERATIONS="1000"), timeout=60)
        self.assertEqual(r.returncode, 0, r)
        r = self.cli("migrate-data", "--to", target)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r)
        self.assertEqual(r.stderr, "cryptopay-auth migrate-data: the target database is not "
                         "empty: its users table has 1 row(s) (%s)\n" % target)

    def test_while_serve_runs_and_the_password_never_shows(self):
        target = self.pg.create_database("busy").replace("user=postgres",
                                                        "user=postgres&password=hunter2")
        proc = subprocess.Popen([harness.BINARY, "serve"],
                                env=dict(self.env, AUTH_WORKERS="1", AUTH_HASH_WORKERS="1"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            pid_file = os.path.join(self.root, "state", "cryptopay-auth.pid")
            harness.wait_until(lambda: os.path.exists(pid_file), what="serve to start")
            r = self.cli("migrate-data", "--to", target)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        self.assertEqual((r.returncode, r.stdout), (1, ""), r)
        self.assertEqual(r.stderr, "cryptopay-auth migrate-data: the service is running (pid %d "
                         "in %s is alive (if that is not the service, remove the file)): stop the "
                         "service first\n" % (proc.pid, os.path.realpath(pid_file)))
        with open(os.path.join(self.root, "state", "auth.log")) as f:
            log = f.read()
        self.assertIn("admin: migrate-data --to %s by " % target.replace("hunter2", "***"), log)
        self.assertNotIn("hunter2", log)


if __name__ == "__main__":
    unittest.main()
