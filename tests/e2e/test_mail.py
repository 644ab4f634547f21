"""Mail delivery (API.md §8) through both backends: the file backend's .eml
files, the SMTP backend through a real relay (aiosmtpd sink), a relay that
is down at first or refuses for a while (every message delivered once), and
a permanent refusal that parks the message as failed."""

import email
import email.policy
import glob
import os
import time
import unittest

import harness


def health(service):
    return service.api("GET", "health/").json()


class FileBackend(harness.ServiceTestCase):
    with_sink = False
    service_env = {"AUTH_MAIL_BACKEND": "file"}

    def test_one_eml_per_message_with_the_code(self):
        mail_dir = os.path.join(self.service.state_dir, "mail")
        addresses = [self.unique_email("file") for _ in range(3)]
        for a in addresses:
            r = self.api("POST", "users/", {"email": a, "terms_accepted": True})
            self.assertEqual(r.status, 201, r)
        def ours():
            found = []
            for path in glob.glob(os.path.join(mail_dir, "*.eml")):
                with open(path, "rb") as f:
                    raw = f.read()
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                if msg["To"] in addresses:
                    found.append((raw, msg))
            return found if len(found) >= 3 else None
        found = harness.wait_until(ours, what="three .eml files")
        recipients = []
        for raw, msg in found:
            self.assertIn(b"\r\n", raw)
            recipients.append(msg["To"])
            self.assertEqual(msg["From"], "no-reply@localhost")
            self.assertEqual(msg["Subject"], "Confirm your email address")
            self.assertRegex(msg["Message-ID"], r"^<outbox-\d+\.\d+@localhost>$")
            self.assertTrue(msg["Date"])
            self.assertRegex(harness.SmtpSink.body(msg), r"\b\d{6}\b")
        self.assertEqual(sorted(recipients), sorted(addresses))
        self.assertEqual([p for p in os.listdir(mail_dir) if not p.endswith(".eml")], [])
        harness.wait_until(lambda: health(self.service)["mail_queue"] == {"pending": 0, "failed": 0},
                           what="an empty queue")

    def test_delivered_rows_keep_no_body(self):
        a = self.unique_email("file")
        self.api("POST", "users/", {"email": a, "terms_accepted": True})
        harness.wait_until(lambda: health(self.service)["mail_queue"]["pending"] == 0)
        with self.service.db() as db:
            rows = db.execute("SELECT status, body FROM outbox WHERE recipient = ?", (a,)).fetchall()
        self.assertEqual([(r["status"], len(r["body"])) for r in rows], [("sent", 0)])


class SmtpBackend(harness.ServiceTestCase):

    def test_delivered_through_the_relay(self):
        a = self.unique_email("smtp")
        self.api("POST", "users/", {"email": a, "terms_accepted": True})
        msg = self.sink.wait_for(a)
        self.assertEqual(msg["From"], "no-reply@localhost")
        self.assertEqual(msg["To"], a)
        self.assertRegex(msg["Message-ID"], r"^<outbox-\d+\.\d+@localhost>$")

    def test_relay_refusing_for_a_while_loses_nothing_and_sends_nothing_twice(self):
        self.sink.refuse(True)
        addresses = [self.unique_email("refused") for _ in range(3)]
        for a in addresses:
            self.assertEqual(self.api("POST", "users/", {"email": a, "terms_accepted": True}).status, 201)
        harness.wait_until(lambda: self._attempted(addresses), what="failed attempts")
        self.assertEqual(health(self.service)["mail_queue"]["pending"], 3)
        for a in addresses:
            self.assertEqual(self.sink.count(a), 0)
        self.sink.refuse(False)
        for a in addresses:
            self.sink.wait_for(a, timeout=20)
        harness.wait_until(lambda: health(self.service)["mail_queue"]["pending"] == 0, 10)
        time.sleep(1)
        for a in addresses:
            self.assertEqual(self.sink.count(a), 1, a)

    def _attempted(self, addresses):
        with self.service.db() as db:
            n = db.execute("SELECT count(*) FROM outbox WHERE attempts > 0 AND status = 'pending' "
                           "AND recipient IN (%s)" % ",".join("?" * len(addresses)),
                           addresses).fetchone()[0]
        return n == len(addresses)

    def test_a_permanent_refusal_is_parked_as_failed(self):
        # The sink refuses recipients ending in this suffix with 550.
        a = "nobody%d@reject.invalid-domain.test" % os.getpid()
        r = self.api("POST", "users/", {"email": a, "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        harness.wait_until(lambda: health(self.service)["mail_queue"]["failed"] >= 1,
                           what="a failed message")
        with self.service.db() as db:
            row = db.execute("SELECT status, last_error FROM outbox WHERE recipient = ?", (a,)).fetchone()
        self.assertEqual(row["status"], "failed")
        self.assertIn("550", row["last_error"])


class AtRest(harness.ServiceTestCase):
    """Codes never reach the disk in clear: outbox rows are sealed, and the
    database's files are the service user's alone, whatever the umask."""

    # No AUTH_SECRET_KEY: the service writes secret.key itself.
    service_env = {"AUTH_SECRET_KEY": ""}

    @classmethod
    def setUpClass(cls):
        old = os.umask(0)  # the service inherits it: its files must not
        try:
            super().setUpClass()
        finally:
            os.umask(old)

    @harness.sqlite_only
    def test_no_code_in_the_database_files(self):
        addresses = [self.unique_email("rest") for _ in range(6)]
        for a in addresses:
            r = self.api("POST", "users/", {"email": a, "terms_accepted": True})
            self.assertEqual(r.status, 201, r)
        codes = [self.sink.code_for(a) for a in addresses]
        harness.wait_until(lambda: health(self.service)["mail_queue"]["pending"] == 0,
                           what="an empty queue")
        files = [p for p in (self.service.db_path, self.service.db_path + "-wal")
                 if os.path.exists(p)]
        self.assertIn(self.service.db_path + "-wal", files)
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            for code in codes:
                self.assertNotIn(code.encode(), data, "a delivered code is in " + path)
            self.assertNotIn(b"Confirm your email address", data, path)
        # The CLI opens what it lists.
        r = self.service.cli("outbox", "list", "--limit", "6")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.count("Confirm your email address"), 6, r.stdout)

    def test_files_are_private(self):
        state = self.service.state_dir
        self.api("POST", "users/", {"email": self.unique_email("mode"), "terms_accepted": True})
        sqlite = () if harness.ON_POSTGRESQL else (
            "auth.db", "auth.db-wal", "auth.db-shm", "auth.db-writer.lock")
        for name in sqlite + ("secret.key",):
            mode = os.stat(os.path.join(state, name)).st_mode & 0o7777
            self.assertEqual(mode, 0o600, "%s is %o" % (name, mode))
        mode = os.stat(os.path.join(state, "auth.log")).st_mode & 0o7777
        self.assertEqual(mode & ~0o640, 0, "auth.log is %o" % mode)


class RelayDownAtFirst(unittest.TestCase):
    """The relay is not listening when the mail is queued; it comes up later."""

    def test_every_message_is_delivered_once_when_the_relay_comes_up(self):
        import shutil
        import tempfile
        root = tempfile.mkdtemp(prefix="cpa-e2e-")
        self.addCleanup(shutil.rmtree, root, True)
        port = harness.free_port()
        sink = harness.SmtpSink(root)
        sink.port = port
        service = harness.Service(root, sink)
        self.addCleanup(service.stop)
        service.start()
        addresses = ["down%d-%d@example.com" % (i, os.getpid()) for i in range(4)]
        for a in addresses:
            r = service.api("POST", "users/", {"email": a, "terms_accepted": True})
            self.assertEqual(r.status, 201, r)
        harness.wait_until(lambda: self._errors(service) >= 4, what="failed attempts")
        self.assertEqual(health(service)["mail_queue"]["pending"], 4)
        sink.start(port)
        self.addCleanup(sink.stop)
        for a in addresses:
            sink.wait_for(a, timeout=30)
        harness.wait_until(lambda: health(service)["mail_queue"]["pending"] == 0, 10)
        time.sleep(1)
        self.assertEqual(sorted(m["To"] for m in sink.messages()), sorted(addresses))

    @staticmethod
    def _errors(service):
        with service.db() as db:
            return db.execute("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL").fetchone()[0]


if __name__ == "__main__":
    unittest.main()
