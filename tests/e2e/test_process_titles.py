"""Process titles: /proc/<pid>/cmdline (what `ps aux` shows) names each
process's role, as nginx's and PostgreSQL's do; comm keeps its short name;
the environment, whose memory the titles reuse, still works (a reload reads
it again)."""

import os
import signal
import unittest

import harness


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read()


class Titles(harness.ServiceTestCase):
    ROLES = {"cpa-worker": b"cryptopay-auth: worker", "cpa-hasher": b"cryptopay-auth: hasher",
             "cpa-mailer": b"cryptopay-auth: mailer"}

    def assertTitle(self, pid, title):
        raw = cmdline(pid)
        # The title, then only NULs: nothing of the old argv or environment.
        self.assertEqual(raw.rstrip(b"\0"), title, raw[:200])

    def test_each_process_shows_its_role(self):
        self.assertTitle(self.service.master_pid, b"cryptopay-auth: master")
        seen = {}
        for pid in self.service.children():
            name = harness.comm(pid)
            if name in self.ROLES:
                self.assertTitle(pid, self.ROLES[name])
                seen[name] = seen.get(name, 0) + 1
        self.assertEqual(seen, {"cpa-worker": 3, "cpa-hasher": 2, "cpa-mailer": 1})

    def test_the_environment_survives_the_titles(self):
        # The workers after a reload are configured from the master's
        # environment, read again: AUTH_PBKDF2_ITERATIONS=1000 must still be there.
        old = set(self.service.children("cpa-hasher"))
        os.kill(self.service.master_pid, signal.SIGHUP)
        harness.wait_until(lambda: not old & set(self.service.children("cpa-hasher"))
                           and len(self.service.children("cpa-hasher")) == 2,
                           what="new hashers")
        for pid in self.service.children("cpa-hasher"):
            self.assertTitle(pid, b"cryptopay-auth: hasher")
        address, _ = self.create_user()
        with self.service.db() as db:
            stored = db.execute("SELECT password FROM users WHERE email = ?",
                                (address,)).fetchone()["password"]
        self.assertTrue(stored.startswith("pbkdf2_sha256$1000$"), stored)


if __name__ == "__main__":
    unittest.main()
