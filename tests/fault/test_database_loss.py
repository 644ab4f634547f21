"""Fault 5: the database's directory vanishes, or its file turns read-only.
Health and requests answer 503 (never 500), no process crashes, and service
resumes with the data intact once the file is back."""

import os
import unittest

import harness

UNAVAILABLE = {"detail": "Service temporarily unavailable."}


class DatabaseLoss(harness.ServiceTestCase):
    # Permission bits mean nothing to root: run the service as an ordinary user.
    run_as = "nobody"

    # The database in a directory of its own, so that the directory can go.
    service_env = {"AUTH_DB_PATH": "{state}/db/auth.db"}

    def assertUnavailable(self, token):
        r = self.api("GET", "health/")
        self.assertEqual(r.status, 503, r)
        body = r.json()
        self.assertEqual(list(body), ["status", "database"])
        self.assertEqual(body["status"], "unavailable")
        self.assertTrue(body["database"])
        self.assertTrue(r.header("Retry-After"))
        for method, route, data, tok in (
                ("POST", "users/", {"email": self.unique_email(), "terms_accepted": True}, None),
                ("POST", "token/obtain/", {"email": "a@example.com", "password": "x"}, None),
                ("GET", "users/me/", None, token),
                ("POST", "token/verify/", {"token": token}, None)):
            r = self.api(method, route, data, token=tok)
            self.assertBody(r, 503, UNAVAILABLE)
            self.assertEqual(r.header("Retry-After"), "5")

    def exercise(self, break_it, restore_it):
        email, password = self.create_user()
        token = self.login(email, password)["access"]
        pids = sorted(self.service.children())
        break_it()
        try:
            self.assertUnavailable(token)
            self.assertUnavailable(token)
        finally:
            restore_it()
        self.assertEqual(sorted(self.service.children()), pids, "a process crashed or restarted")
        self.assertEqual(self.api("GET", "health/").status, 200)
        self.assertEqual(self.api("GET", "users/me/", token=token).json()["email"], email)
        self.login(email, password)
        with self.service.db() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")

    def test_read_only_file(self):
        path = self.service.db_path
        self.exercise(lambda: os.chmod(path, 0o444), lambda: os.chmod(path, 0o644))

    def test_directory_removed(self):
        db_dir = os.path.dirname(self.service.db_path)
        away = db_dir + ".away"
        self.exercise(lambda: os.rename(db_dir, away), lambda: os.rename(away, db_dir))


if __name__ == "__main__":
    unittest.main()
