"""Files the service creates are private to its user, whatever umask it was
started with: a fresh state dir is 0700, the database, its WAL and shared
memory, the secret key, the log, the pid file 0600; only the two sockets are
opened to the group (0660), for nginx. Under `run` started by root, nginx's
workers get search (x) on the state dir and nginx's own dir, nothing more."""

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

import harness


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


EXPECTED = {"auth.db": 0o600, "auth.db-wal": 0o600, "auth.db-shm": 0o600, "secret.key": 0o600,
            "auth.log": 0o600, "cryptopay-auth.pid": 0o600, "fcgi.sock": 0o660,
            "fcgi-hash.sock": 0o660}
if harness.ON_POSTGRESQL:  # no database file in the state dir then
    EXPECTED = {k: v for k, v in EXPECTED.items() if not k.startswith("auth.db")}


def stop_if_running(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class Serve(unittest.TestCase):
    """`serve`, what systemd runs, in a fresh state dir under umask 0."""

    def test_a_fresh_state_dir_is_private(self):
        root = tempfile.mkdtemp(prefix="cpa-files-")
        self.addCleanup(shutil.rmtree, root, True)
        state = os.path.join(root, "state")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.update({"CRYPTOPAY_AUTH_CONFIG": "", "AUTH_STATE_DIR": state, "AUTH_WORKERS": "1",
                    "AUTH_HASH_WORKERS": "1", "AUTH_PBKDF2_ITERATIONS": "1000"})
        old = os.umask(0)  # the widest there is: every mode below is the binary's
        try:
            proc = subprocess.Popen([harness.BINARY, "serve"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.addCleanup(stop_if_running, proc)
            harness.wait_until(lambda: os.path.exists(os.path.join(state, "cryptopay-auth.pid")),
                               what="serve to start")
            # A write while it serves: the WAL and shared memory exist from here.
            r = subprocess.run([harness.BINARY, "createsuperuser", "--email", "a@example.com"],
                               env=env, input="Corr3ct-Horse-battery\n", text=True,
                               capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 0, r)
        finally:
            os.umask(old)
        try:
            self.assertEqual(mode(state), 0o700)
            for name, want in EXPECTED.items():
                with self.subTest(file=name):
                    self.assertEqual(oct(mode(os.path.join(state, name))), oct(want))
            for name in os.listdir(state):
                path = os.path.join(state, name)
                with self.subTest(other=name):
                    if stat.S_ISSOCK(os.lstat(path).st_mode):
                        self.assertEqual(mode(path), 0o660)
                    else:
                        self.assertEqual(mode(path) & 0o077, 0, oct(mode(path)))
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)


class Run(harness.ServiceTestCase):
    """`run` (nginx + the pool), after real traffic, under umask 0."""
    service_env = {"AUTH_SECRET_KEY": ""}  # generated into secret.key

    @classmethod
    def setUpClass(cls):
        old = os.umask(0)
        try:
            super().setUpClass()
        finally:
            os.umask(old)

    def test_only_the_sockets_and_a_way_to_them_are_open(self):
        self.create_user()  # the database, the outbox, the mailer, a log line each
        state = self.service.state_dir
        if not harness.ON_POSTGRESQL:
            harness.wait_until(lambda: os.path.exists(os.path.join(state, "auth.db-wal")),
                               what="the WAL")
        for name, want in EXPECTED.items():
            with self.subTest(file=name):
                self.assertEqual(oct(mode(os.path.join(state, name))), oct(want))
        # Dirs: 0700, or 0710 where nginx's workers pass (root only); files:
        # nothing for group or others; sockets 0660. Swagger UI's copy is the
        # exception by design (proc/docs_assets): public files nginx serves.
        public = os.path.join(state, "nginx", "swagger-ui")
        seen = 0
        for dirpath, dirnames, filenames in os.walk(state):
            dirnames[:] = [n for n in dirnames if os.path.join(dirpath, n) != public]
            for path in [dirpath] + [os.path.join(dirpath, n) for n in dirnames]:
                with self.subTest(dir=path):
                    self.assertIn(mode(path), (0o700, 0o710) if os.geteuid() == 0 else (0o700,),
                                  oct(mode(path)))
            for name in filenames:
                path = os.path.join(dirpath, name)
                seen += 1
                with self.subTest(file=path):
                    if stat.S_ISSOCK(os.lstat(path).st_mode):
                        self.assertEqual(mode(path), 0o660)
                    else:
                        self.assertEqual(mode(path) & 0o077, 0, oct(mode(path)))
        self.assertGreater(seen, len(EXPECTED))  # nginx's config and logs were looked at too


if __name__ == "__main__":
    unittest.main()
