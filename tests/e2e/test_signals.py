"""Signals an admin sends, through the real processes: SIGUSR1 reopens the log
file in every process (logrotate's move, then USR1), the signals other
servers give a meaning to are never fatal, and AUTH_LOG_FILE=- logs to
stderr only. (USR2 to the master upgrades it: fault/test_upgrade.py.)"""

import os
import signal
import threading
import time
import unittest

import harness


def open_paths(pid):
    """What each descriptor of `pid` names (readlink of /proc/<pid>/fd/*)."""
    fd_dir = "/proc/%d/fd" % pid
    out = []
    for fd in os.listdir(fd_dir):
        try:
            out.append(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            pass
    return out


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class LogReopen(harness.ServiceTestCase):
    def test_usr1_after_a_move_sends_every_process_to_a_new_file(self):
        log = os.path.join(self.service.state_dir, "auth.log")
        rotated = log + ".1"
        ours = [p for p in self.service.children() if harness.comm(p).startswith("cpa-")]
        processes = [self.service.master_pid] + ours
        self.assertEqual({harness.comm(p) for p in ours},
                         {"cpa-worker", "cpa-hasher", "cpa-mailer"})
        for pid in processes:
            self.assertIn(log, open_paths(pid), pid)

        os.rename(log, rotated)  # what logrotate does first
        os.kill(self.service.master_pid, signal.SIGUSR1)
        # Every process, the master and each child, lets go of the old file
        # and holds the new one.
        harness.wait_until(
            lambda: all(log in open_paths(p) and rotated not in open_paths(p) for p in processes),
            what="every process to reopen auth.log")
        self.assertIn("SIGUSR1: reopened " + log, read(log))
        rotated_size = os.path.getsize(rotated)

        # A worker's line and the mailer's line land in the new file.
        rid = "after-rotation-%d" % os.getpid()
        self.assertEqual(self.api("GET", "health/", headers={"X-Request-Id": rid}).status, 200)
        address = "rotated%d@reopen.example.com" % os.getpid()
        self.register(address)
        harness.wait_until(lambda: "rid=%s GET" % rid in read(log) and "outcome=sent" in read(log)
                           and "to=@reopen.example.com" in read(log),
                           what="the worker's and the mailer's lines in the new auth.log")
        new_lines = read(log)
        self.assertRegex(new_lines, r"worker\[\d+\] info rid=%s GET" % rid)
        self.assertRegex(new_lines, r"mailer\[\d+\] info mail id=\d+ to=@reopen\.example\.com "
                                    r"attempt=1 outcome=sent")
        # The old file got nothing more.
        self.assertEqual(os.path.getsize(rotated), rotated_size)
        self.assertNotIn(rid, read(rotated))
        # Nobody was restarted for it.
        self.assertEqual(sorted(p for p in self.service.children()
                                if harness.comm(p).startswith("cpa-")), sorted(ours))


class HabitSignals(harness.ServiceTestCase):
    with_sink = False

    SIGNALS = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGTTIN, signal.SIGTTOU,
               signal.SIGALRM, signal.SIGPIPE)
    # USR2 to the master is an upgrade, which replaces the children.
    MASTER_SIGNALS = tuple(s for s in SIGNALS if s != signal.SIGUSR2)

    def test_signals_other_servers_use_are_not_fatal(self):
        master = self.service.master_pid
        children = sorted(self.service.children())
        targets = [("master", master)] + [
            (name, self.service.children(name)[0])
            for name in ("cpa-worker", "cpa-hasher", "cpa-mailer")]
        statuses = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                statuses.append(self.api("GET", "health/").status)
        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            for name, pid in targets:
                for sig in self.MASTER_SIGNALS if name == "master" else self.SIGNALS:
                    with self.subTest(process=name, signal=sig.name):
                        os.kill(pid, sig)
                        time.sleep(0.05)
                        self.assertTrue(harness.alive(pid), "%s died of %s" % (name, sig.name))
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(len(statuses), 20)
        self.assertEqual(set(statuses), {200}, "answers while signals were sent")
        self.assertEqual(sorted(self.service.children()), children, "a process was restarted")
        self.assertTrue(harness.alive(master))
        log = self.service.read_log()
        self.assertNotIn("restarting", log)
        self.assertIn("SIGWINCH ignored", log)
        self.assertFalse("SIGUSR2" in log, "the master was sent no USR2")

    def test_hup_still_reloads(self):
        old = set(self.service.children("cpa-worker"))
        os.kill(self.service.master_pid, signal.SIGHUP)
        harness.wait_until(lambda: not old & set(self.service.children("cpa-worker"))
                           and len(self.service.children("cpa-worker")) == 3,
                           what="the workers to be replaced")
        self.assertEqual(self.api("GET", "health/").status, 200)


class StderrOnly(harness.ServiceTestCase):
    with_sink = False
    service_env = {"AUTH_LOG_FILE": "-"}

    def test_dash_logs_to_stderr_and_creates_no_file(self):
        rid = "stderr-only-%d" % os.getpid()
        self.assertEqual(self.api("GET", "health/", headers={"X-Request-Id": rid}).status, 200)
        harness.wait_until(lambda: "rid=%s GET" % rid in self.service.read_log(),
                           what="the request's line on stderr")
        # USR1 with no file to reopen changes nothing and creates nothing.
        os.kill(self.service.master_pid, signal.SIGUSR1)
        time.sleep(0.3)
        self.assertEqual(self.api("GET", "health/").status, 200)
        self.assertEqual([n for n in os.listdir(self.service.state_dir) if n.endswith(".log")
                          and n.startswith("auth")], [])
        self.assertFalse(os.path.exists(os.path.join(self.service.state_dir, "auth.log")))


if __name__ == "__main__":
    unittest.main()
