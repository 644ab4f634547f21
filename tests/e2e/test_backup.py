"""`cryptopay-auth backup FILE` while the service serves, and a restore from
it as README's "Backup and restore" tells: registrations keep arriving
through nginx during the backup; every one acknowledged (201) before the
backup began is in the copy; the copy, restored with its secret key into a
fresh state dir, serves the accounts and the tokens of before."""

import os
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
import unittest

import harness


class BackupTestCase(harness.ServiceTestCase):
    # The key lives in secret.key, as in production: a restore copies it too.
    service_env = {"AUTH_SECRET_KEY": ""}

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="cpa-backup-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def backup(self, *args):
        return self.service.cli("backup", *args, env={"AUTH_SECRET_KEY": ""})


@harness.postgresql_only
class OnPostgreSQL(BackupTestCase):
    """`backup` copies SQLite's file; on PostgreSQL it says what to use."""

    def test_backup_points_to_pg_dump(self):
        r = self.backup(os.path.join(self.out, "copy.db"))
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(r.stderr, "cryptopay-auth backup: backup copies a SQLite database; this "
                         "one is PostgreSQL (AUTH_DATABASE_URL): back it up with pg_dump\n")
        self.assertEqual(os.listdir(self.out), [])


@harness.sqlite_only
class WhileServing(BackupTestCase):

    def test_backup_while_registering_then_restore(self):
        email, password = self.create_user()
        access = self.login(email, password)["access"]

        acknowledged = []  # emails whose 201 has been received, in order
        answers = []
        lock = threading.Lock()
        stop = threading.Event()

        def register():
            i = 0
            while not stop.is_set():
                address = "stream%d-%d@example.com" % (i, os.getpid())
                i += 1
                r = self.api("POST", "users/", {"email": address, "terms_accepted": True})
                with lock:
                    answers.append(r.status)
                    if r.status == 201:
                        acknowledged.append(address)
        writer = threading.Thread(target=register)
        writer.start()
        try:
            harness.wait_until(lambda: len(acknowledged) >= 30, 30, what="registrations")
            with lock:
                before = list(acknowledged)  # all acknowledged before the backup began
            path = os.path.join(self.out, "auth-backup.db")
            r = self.backup(path)
            with lock:
                at_end = len(acknowledged)
            # It ran while the service served: writes were acknowledged meanwhile.
            self.assertGreater(at_end, len(before))
            # The service kept taking writes after the copy was made.
            harness.wait_until(lambda: len(acknowledged) >= at_end + 10, 30,
                               what="registrations after the backup")
        finally:
            stop.set()
            writer.join()
        self.assertEqual(set(answers), {201})

        self.assertEqual((r.returncode, r.stderr), (0, ""), r)
        key_file = os.path.join(self.service.state_dir, "secret.key")
        self.assertEqual(r.stdout.splitlines(), [
            "backup of %s written to %s (%d bytes, integrity ok)"
            % (os.path.realpath(self.service.db_path), path, os.path.getsize(path)),
            "keep %s with the copy: without that key the copy's tokens and codes are invalid"
            % os.path.realpath(key_file)])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(sorted(os.listdir(self.out)), ["auth-backup.db"])  # no .tmp left

        copy = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(copy.execute("PRAGMA journal_mode").fetchone()[0], "delete")
        in_copy = {row[0] for row in copy.execute("SELECT email FROM users")}
        missing = [a for a in before if a not in in_copy]
        self.assertEqual(missing, [], "acknowledged before the backup but not in it")
        self.assertIn(email, in_copy)
        # A snapshot: not what was written after it ended.
        self.assertLess(len(in_copy), len(acknowledged) + 1)
        copy.close()

        # Restore: stop, copy the backup and the key into a fresh state dir, start.
        self.service.stop()
        fresh = tempfile.mkdtemp(prefix="cpa-restore-")
        self.addCleanup(shutil.rmtree, fresh, True)
        restored_state = os.path.join(fresh, "state")
        os.mkdir(restored_state, 0o700)
        shutil.copy(path, os.path.join(restored_state, "auth.db"))
        shutil.copy(key_file, os.path.join(restored_state, "secret.key"))
        restored = harness.Service(fresh, self.sink, {"AUTH_SECRET_KEY": ""})
        self.addCleanup(restored.stop)
        restored.start()
        r = restored.api("GET", "users/me/", token=access)  # a token minted before the backup
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["email"], email)
        r = restored.api("POST", "token/obtain/", {"email": email, "password": password})
        self.assertEqual(r.status, 200, r)
        r = restored.cli("users", "show", before[-1], env={"AUTH_SECRET_KEY": ""})
        self.assertEqual(r.returncode, 0, r)



@harness.sqlite_only
class TheFile(BackupTestCase):
    with_sink = False

    def test_an_existing_file_is_replaced_only_with_force(self):
        path = os.path.join(self.out, "taken.db")
        with open(path, "w") as f:
            f.write("not a database")
        os.chmod(path, 0o644)
        r = self.backup(path)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertEqual(r.stderr,
                         "cryptopay-auth backup: %s exists (--force replaces it)\n" % path)
        with open(path) as f:
            self.assertEqual(f.read(), "not a database")
        r = self.backup(path, "--force")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as copy:
            self.assertEqual(copy.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        # The live database is never the target, --force or not.
        r = self.backup(self.service.db_path, "--force")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is the live database itself", r.stderr)
        # Both attempts and the success are in the log, as admin actions.
        with open(os.path.join(self.service.state_dir, "auth.log")) as f:
            log = f.read()
        self.assertIn("admin: backup %s by " % path, log)
        self.assertIn("failed: %s exists (--force replaces it)" % path, log)

    def test_with_the_key_in_the_environment_the_reminder_says_so(self):
        path = os.path.join(self.out, "env-key.db")
        r = self.service.cli("backup", path, env={"AUTH_SECRET_KEY": harness.TEST_SECRET})
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("the secret key is AUTH_SECRET_KEY", r.stdout)
        self.assertNotIn(harness.TEST_SECRET, r.stdout)


if __name__ == "__main__":
    unittest.main()
