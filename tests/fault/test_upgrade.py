"""Upgrading in place (SIGUSR2, `systemctl reload`): the service is started
from a copy of the binary in the test's temp dir; the copy is replaced on
disk as `install` would (a new file renamed over it), then the master is sent
USR2 while clients keep sending requests through nginx. Not one request may
fail, the master's pid must stay (systemd's MAINPID) while its image becomes
the new file, every old child must go, and exactly one mailer must deliver
each acknowledged registration's one mail. A broken file on disk must leave
the running service as it was, and the log must say why."""

import collections
import os
import shutil
import signal
import stat
import threading
import unittest

import harness


def exe_link(pid):
    return os.readlink("/proc/%d/exe" % pid)


def exe_inode(pid):
    st = os.stat("/proc/%d/exe" % pid)  # the image's own file, even if deleted
    return st.st_dev, st.st_ino


def inode(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def replace_file(path, write):
    """A new file renamed over `path`, as `install` and package managers do:
    the running image keeps the old inode."""
    tmp = path + ".new"
    write(tmp)
    os.rename(tmp, path)


def requests_total(service):
    """cryptopay_auth_requests_total summed over every label."""
    r = service.api("GET", "metrics")
    assert r.status == 200, r
    total = 0
    for line in r.body.decode().splitlines():
        if line.startswith("cryptopay_auth_requests_total{"):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


class Traffic:
    """Clients on several connections at once until stopped: registrations
    (POST users/, which write and queue a mail), token checks and health.
    Every answer is recorded; anything but the expected status, or an
    exception (a refused connection, a 502 from nginx, an answer the
    contract does not declare), is a failure."""

    serial = 0  # each Traffic its own addresses: one code a minute per address

    def __init__(self, test, token, clients=4):
        Traffic.serial += 1
        self.prefix = "up%d-%d" % (os.getpid(), Traffic.serial)
        self.test = test
        self.token = token
        self.clients = clients
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.answers = 0
        self.failures = []
        self.registered = []  # emails whose registration was acknowledged (201)
        self.threads = []

    def _one(self, n, i):
        kind = (n + i) % 3
        try:
            if kind == 0:
                email = "%s-%d-%d@example.com" % (self.prefix, i, n)
                r = self.test.api("POST", "users/", {"email": email, "terms_accepted": True})
                ok = r.status == 201
                if ok:
                    with self.lock:
                        self.registered.append(email)
            elif kind == 1:
                r = self.test.api("POST", "token/verify/", {"token": self.token})
                ok = r.status == 200 and r.body == b"{}"
            else:
                r = self.test.api("GET", "health/")
                ok = r.status == 200
            outcome = None if ok else (kind, r.status, r.body[:200])
        except Exception as e:  # noqa: BLE001: every kind of failure is recorded
            outcome = (kind, repr(e))
        with self.lock:
            self.answers += 1
            if outcome:
                self.failures.append(outcome)

    def _client(self, i):
        n = 0
        while not self.stop_event.is_set():
            self._one(n, i)
            n += 1

    def start(self):
        for i in range(self.clients):
            t = threading.Thread(target=self._client, args=(i,))
            t.start()
            self.threads.append(t)

    def count(self):
        with self.lock:
            return self.answers

    def wait_for_more(self, n, what):
        target = self.count() + n
        harness.wait_until(lambda: self.count() >= target, 60, what=what)

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join()


class UpgradeTestCase(harness.ServiceTestCase):
    service_env = {"AUTH_WORKERS": "2", "AUTH_HASH_WORKERS": "1"}

    @classmethod
    def service_binary(cls):
        d = os.path.join(cls.root, "bin")
        os.makedirs(d)
        os.chmod(d, 0o755)
        path = os.path.join(d, "cryptopay-auth")
        shutil.copy2(harness.BINARY, path)
        return path

    def our_processes(self):
        """The master's children that are the service's own (not nginx)."""
        return {p: harness.comm(p) for p in self.service.children()
                if (harness.comm(p) or "").startswith("cpa-")}

    def start_traffic(self):
        email, password = self.create_user()
        traffic = Traffic(self, self.login(email, password)["access"])
        traffic.start()
        self.addCleanup(traffic.stop)
        traffic.wait_for_more(30, "traffic before the signal")
        return traffic


class Upgrade(UpgradeTestCase):

    def test_usr2_runs_the_new_file_in_place_without_a_failed_request(self):
        service = self.service
        master = service.master_pid
        binary = service.binary
        self.assertEqual(exe_inode(master), inode(binary))
        old = self.our_processes()
        self.assertEqual(sorted(old.values()),
                         ["cpa-hasher", "cpa-mailer", "cpa-worker", "cpa-worker"])
        nginx = service.children("nginx")
        self.assertEqual(len(nginx), 1)
        counted_before = requests_total(service)

        traffic = self.start_traffic()
        replace_file(binary, lambda tmp: shutil.copy2(harness.BINARY, tmp))
        new_file = inode(binary)
        self.assertNotEqual(exe_inode(master), new_file)
        self.assertTrue(exe_link(master).endswith(" (deleted)"), exe_link(master))

        os.kill(master, signal.SIGUSR2)
        harness.wait_until(lambda: "upgraded in place" in service.read_log(), 60,
                           what="the new image's line")
        harness.wait_until(lambda: not any(harness.alive(p) for p in old), 30,
                           what="every old worker, hasher and the old mailer to exit")
        harness.wait_until(lambda: sorted(self.our_processes().values()) ==
                           ["cpa-hasher", "cpa-mailer", "cpa-worker", "cpa-worker"], 30,
                           what="the new pool and one new mailer")
        traffic.wait_for_more(150, "traffic after the upgrade")
        traffic.stop()

        self.assertEqual(traffic.failures, [], "requests failed across the upgrade")
        self.assertGreater(len(traffic.registered), 20)
        # The same pid (systemd's MAINPID, the pid file), now the new file's image.
        self.assertTrue(harness.alive(master))
        self.assertEqual(exe_inode(master), new_file)
        self.assertEqual(exe_link(master), binary)  # not "(deleted)"
        with open(os.path.join(service.state_dir, "cryptopay-auth.pid")) as f:
            self.assertEqual(int(f.read()), master)
        # nginx served throughout and was left as it was.
        self.assertEqual(service.children("nginx"), nginx)
        # Exactly one mailer, the new one, in the whole process tree.
        mailers = [p for p in harness.descendants(master) if harness.comm(p) == "cpa-mailer"]
        self.assertEqual(len(mailers), 1)
        self.assertNotIn(mailers[0], old)
        self.assertFalse(set(self.our_processes()) & set(old))

        # Every acknowledged registration is there, and mailed once.
        db = service.db()
        harness.wait_until(
            lambda: db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'")
            .fetchone()[0] == 0, 60, what="the outbox to empty")
        self.assertEqual(db.execute("SELECT count(*) FROM outbox WHERE status != 'sent'")
                         .fetchone()[0], 0)
        for email in traffic.registered:
            self.assertEqual(db.execute("SELECT count(*) FROM users WHERE email = ?",
                                        (email,)).fetchone()[0], 1, email)
            self.assertEqual(db.execute("SELECT count(*) FROM outbox WHERE recipient = ?",
                                        (email,)).fetchone()[0], 1, email)
        db.close()
        # One pass over the sink's messages per look (wait_for per address
        # reads them all again each time: quadratic in the registrations,
        # which kept connections made many more of during the drain).
        def mails_by_recipient():
            counts = collections.Counter(m["To"].strip().lower() for m in self.sink.messages())
            return counts if all(counts[e.lower()] for e in traffic.registered) else None
        counts = harness.wait_until(mails_by_recipient, 60, 0.5, "a mail to every registration")
        for email in traffic.registered:
            self.assertEqual(counts[email.lower()], 1, email)

        # The counters went on: the new master mapped the same block.
        self.assertGreaterEqual(requests_total(service), counted_before + traffic.count())
        log = service.read_log()
        self.assertNotIn("metrics start at zero", log)
        self.assertNotIn("upgrade aborted", log)
        self.assertNotIn("restarting", log)
        self.assertRegex(log, r"master\[%d\] info upgrade: executing %s in place"
                         % (master, binary.replace(".", r"\.")))
        self.assertRegex(log, r"master\[%d\] info upgraded in place: now cryptopay-auth "
                         % master)

        # And it stops as ever, from the new image.
        self.assertEqual(service.stop(), 0)


class BrokenUpgrade(UpgradeTestCase):

    def assertStillServing(self, master, children, old_image, why):
        self.assertTrue(harness.alive(master))
        self.assertEqual(exe_inode(master), old_image)
        self.assertEqual(self.our_processes(), children, "the pool was replaced")
        self.assertEqual(self.api("GET", "health/").status, 200)
        log = self.service.read_log()
        self.assertRegex(log, r"master\[%d\] error upgrade aborted: %s %s \(its own lines say "
                              r"why\); still serving as cryptopay-auth "
                         % (master, self.service.binary.replace(".", r"\."), why))

    def upgrade_to(self, write, why):
        master = self.service.master_pid
        children = self.our_processes()
        old_image = exe_inode(master)
        aborted = self.service.read_log().count("upgrade aborted")
        traffic = self.start_traffic()
        replace_file(self.service.binary, write)
        os.kill(master, signal.SIGUSR2)
        harness.wait_until(lambda: self.service.read_log().count("upgrade aborted") > aborted,
                           60, what="the master to give the upgrade up")
        traffic.wait_for_more(30, "traffic after the failed upgrade")
        traffic.stop()
        self.assertEqual(traffic.failures, [])
        self.assertStillServing(master, children, old_image, why)

    def test_a_binary_that_exits_at_once_changes_nothing(self):
        def script(path):
            with open(path, "w") as f:
                f.write("#!/bin/sh\necho 'broken build: cannot start' >&2\nexit 1\n")
            os.chmod(path, 0o755)
        self.upgrade_to(script, "exited with status 1 before it was ready")
        self.assertIn("broken build: cannot start", self.service.read_log())

    def test_a_file_that_cannot_be_executed_changes_nothing(self):
        def not_executable(path):
            shutil.copy2(harness.BINARY, path)
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        self.upgrade_to(not_executable, "exited with status 127 before it was ready")
        self.assertRegex(self.service.read_log(),
                         r"upgrade\[\d+\] error cannot execute .*: Permission denied")


if __name__ == "__main__":
    unittest.main()
