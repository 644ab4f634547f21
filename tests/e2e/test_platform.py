"""Platform conventions of API.md §1 and §8 through real nginx: routing, 404,
405 + Allow, trailing slash, HEAD/OPTIONS, X-Request-Id, 413, 502, health,
worker replacement, graceful stop."""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness


def sockets(pid):
    """How many sockets the process `pid` holds: a worker's listening socket,
    plus the connections nginx keeps to it."""
    count = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            count += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return count


class Conventions(harness.ServiceTestCase):
    with_sink = False

    def test_health_reports_database_and_queue(self):
        r = self.api("GET", "health/")
        self.assertBody(r, 200, {"status": "ok", "database": "ok",
                                 "mail_queue": {"pending": 0, "failed": 0}})
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_a_second_instance_on_the_same_socket_refuses_to_start(self):
        r = subprocess.run([harness.BINARY, "serve"], env=self.service.environment(),
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is in use: is another instance running on it?", r.stderr)
        # The running one still has its socket.
        self.assertEqual(self.api("GET", "health/").status, 200)

    def test_trailing_slash_is_optional(self):
        with_slash = self.api("GET", "health/")
        without = self.api("GET", "health")
        self.assertEqual(with_slash.status, 200)
        self.assertEqual(without.status, 200)
        self.assertEqual(with_slash.body, without.body)

    def test_unknown_route_is_404(self):
        for path in ("/api/v1/auth/nope/", "/api/v1/auth/users/abc/", "/api/v1/auth/",
                     "/api/v1/auth/health/extra/"):
            r = self.service.request("GET", path)
            self.assertBody(r, 404, {"detail": "Not found."})

    def test_paths_outside_the_api_are_404_json_from_nginx(self):
        r = self.service.request("GET", "/")
        self.assertBody(r, 404, {"detail": "Not found."})
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertTrue(r.header("X-Request-Id"))

    def test_wrong_method_is_405_with_allow(self):
        r = self.api("POST", "health/")
        self.assertBody(r, 405, {"detail": 'Method "POST" not allowed.'})
        self.assertEqual(r.header("Allow"), "GET, HEAD")
        r = self.api("DELETE", "health")
        self.assertBody(r, 405, {"detail": 'Method "DELETE" not allowed.'})

    def test_options_is_405(self):
        r = self.api("OPTIONS", "health/")
        self.assertBody(r, 405, {"detail": 'Method "OPTIONS" not allowed.'})
        self.assertEqual(r.header("Allow"), "GET, HEAD")

    def test_head_is_allowed_where_get_is(self):
        r = self.api("HEAD", "health/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_request_id_is_echoed_when_sane(self):
        r = self.api("GET", "health/", headers={"X-Request-Id": "abc.DEF_1:2-3"})
        self.assertEqual(r.header("X-Request-Id"), "abc.DEF_1:2-3")
        r = self.api("GET", "health/", headers={"X-Request-Id": "x" * 128})
        self.assertEqual(r.header("X-Request-Id"), "x" * 128)

    def test_request_id_is_replaced_when_not_sane(self):
        for bad in ("x" * 129, "has space", "semi;colon", "quote\"", "é"):
            r = self.api("GET", "health/", headers={"X-Request-Id": bad.encode("utf-8")})
            rid = r.header("X-Request-Id")
            self.assertNotEqual(rid, bad)
            self.assertRegex(rid, r"^[A-Za-z0-9._:-]{1,128}$")
        r1 = self.api("GET", "health/")
        r2 = self.api("GET", "health/")
        self.assertNotEqual(r1.header("X-Request-Id"), r2.header("X-Request-Id"))

    def test_request_id_is_in_the_log_line(self):
        self.api("GET", "health/", headers={"X-Request-Id": "find-me-in-the-log-42"})
        harness.wait_until(lambda: "rid=find-me-in-the-log-42 GET /api/v1/auth/health/ 200"
                           in self.service.read_log(), what="the request's log line")
        with open(os.path.join(self.service.state_dir, "auth.log")) as f:
            self.assertIn("rid=find-me-in-the-log-42", f.read())

    def test_control_bytes_in_the_path_cannot_forge_log_lines(self):
        # nginx decodes %0a, %0d and %1b before the worker sees the path.
        cases = (("/api/v1/auth/%0a2026-01-01T00:00:00Z%20fake[1]%20info%20forged",
                  b"/api/v1/auth/\\x0a2026-01-01T00:00:00Z fake[1] info forged 404 "),
                 ("/api/v1/auth/%1b[31m%0dred%c2%9b%ff",
                  b"/api/v1/auth/\\x1b[31m\\x0dred\\xc2\\x9b\\xff 404 "))
        auth_log = os.path.join(self.service.state_dir, "auth.log")
        for i, (path, logged) in enumerate(cases):
            rid = "log-inject-%d-%d" % (os.getpid(), i)
            r = self.service.request("GET", path, headers={"X-Request-Id": rid})
            self.assertBody(r, 404, {"detail": "Not found."})

            def lines():
                with open(auth_log, "rb") as f:
                    return [l for l in f.read().split(b"\n") if rid.encode() in l]
            line = harness.wait_until(lines, what="the log line of " + rid)
            self.assertEqual(len(line), 1, line)
            self.assertIn(b" info rid=%s GET %s" % (rid.encode(), logged), line[0])
        with open(auth_log, "rb") as f:
            text = f.read()
        self.assertNotIn(b"\n2026-01-01T00:00:00Z fake[1]", text)
        for byte in (b"\x1b", b"\r", b"\xc2\x9b", b"\xff"):
            self.assertNotIn(byte, text)

    def test_body_over_64_kib_is_413_from_nginx(self):
        body = b'{"email": "' + b"a" * (70 * 1024) + b'"}'
        r = self.service.request("POST", "/api/v1/auth/users/", body,
                                 {"Content-Type": "application/json"})
        self.assertBody(r, 413, {"detail": "Request body too large."})
        self.assertTrue(r.header("X-Request-Id"))

    def test_password_hashing_routes_go_to_their_own_pool(self):
        cases = (("POST", "token/obtain/", {"email": "a@example.com", "password": "x"}, "hasher"),
                 ("POST", "token/obtain", {"email": "a@example.com", "password": "x"}, "hasher"),
                 ("DELETE", "users/12/", {}, "hasher"),
                 ("POST", "token/verify/", {"token": "x"}, "worker"),
                 ("GET", "users/me/", None, "worker"),
                 ("GET", "health/", None, "worker"))
        for i, (method, route, data, pool) in enumerate(cases):
            rid = "pool-check-%d-%d" % (os.getpid(), i)
            self.api(method, route, data, headers={"X-Request-Id": rid})
            self.assertEqual(self.service.served_by(rid), pool, (method, route))
        self.assertEqual(len(self.service.children("cpa-hasher")), 2)

    def test_nginx_keeps_connections_to_the_pool_not_to_the_hashers(self):
        # On PostgreSQL every process also holds its connection to the database.
        database_sockets = 1 if harness.ON_POSTGRESQL else 0

        def pool_sockets(name):  # each process's listening socket, plus its kept connections
            pids = self.service.children(name)
            return sum(sockets(pid) for pid in pids) - database_sockets * len(pids)
        for _ in range(10):
            self.assertEqual(self.api("GET", "health/").status, 200)
            self.api("POST", "token/obtain/", {"email": "keep@example.com", "password": "x"})
        # One kept connection at least, reused (fewer than one per request).
        self.assertGreaterEqual(pool_sockets("cpa-worker"), 3 + 1)
        self.assertLess(pool_sockets("cpa-worker"), 3 + 10)
        # A hasher closes each connection right after its answer, which the
        # client may have before the close: give it that moment.
        harness.wait_until(lambda: pool_sockets("cpa-hasher") == 2, 5, 0.01,
                           "the hashers to hold their listening sockets only")

    def test_a_killed_worker_is_replaced(self):
        workers = self.service.children("cpa-worker")
        self.assertEqual(len(workers), 3)
        os.kill(workers[0], signal.SIGKILL)
        harness.wait_until(lambda: len(self.service.children("cpa-worker")) == 3
                           and workers[0] not in self.service.children("cpa-worker"),
                           what="a replacement worker")
        for _ in range(20):
            self.assertEqual(self.api("GET", "health/").status, 200)


class Reload(harness.ServiceTestCase):
    with_sink = False

    def test_a_stopping_worker_serves_its_kept_connections_until_nginx_closes_them(self):
        # A worker told to stop never closes a kept connection itself (nginx
        # would answer 502 to a request it sent on it at that moment): it
        # serves what they bring, and leaves once nginx has closed them,
        # which nginx does after 1 s idle (keepalive_timeout), long before
        # the worker's own 8 s limit.
        def a_holder():
            for _ in range(5):
                self.assertEqual(self.api("GET", "health/").status, 200)
            return next((p for p in self.service.children("cpa-worker") if sockets(p) > 1),
                        None)
        pid = harness.wait_until(a_holder, 10, 0.05, "a worker with a kept connection")
        os.kill(pid, signal.SIGTERM)
        for _ in range(10):  # some on its kept connections, as nginx picks them
            self.assertEqual(self.api("GET", "health/").status, 200)
        idle_from = time.monotonic()
        harness.wait_until(lambda: pid not in self.service.children("cpa-worker"), 10, 0.01,
                           "the worker to exit")
        self.assertLess(time.monotonic() - idle_from, 3.0)
        for _ in range(20):
            self.assertEqual(self.api("GET", "health/").status, 200)
        harness.wait_until(lambda: len(self.service.children("cpa-worker")) == 3,
                           what="its replacement")

    def test_sighup_replaces_the_workers_without_dropping_requests(self):
        old_workers = set(self.service.children("cpa-worker"))
        old_mailer = set(self.service.children("cpa-mailer"))
        statuses = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                statuses.append(self.api("GET", "health/").status)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        os.kill(self.service.master_pid, signal.SIGHUP)
        harness.wait_until(lambda: not (set(self.service.children("cpa-worker")) & old_workers)
                           and len(self.service.children("cpa-worker")) == 3,
                           what="a new generation of workers")
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(statuses), 20)
        self.assertEqual(set(statuses), {200})
        # The new mailer starts once the old one has gone: never two at once
        # (both would send the same pending row).
        mailers = harness.wait_until(
            lambda: (lambda m: m if m and not set(m) & old_mailer else None)(
                self.service.children("cpa-mailer")),
            what="the new mailer")
        self.assertEqual(len(mailers), 1)
        self.assertEqual(len(self.service.children("nginx")), 1)


class CrashLoop(harness.ServiceTestCase):
    """A worker that keeps dying right after it starts is restarted with
    growing delays, not in a tight loop; one that lived is restarted at once."""
    with_sink = False
    service_env = {"AUTH_WORKERS": "1"}

    def next_worker(self, old):
        started = time.monotonic()
        pid = harness.wait_until(
            lambda: next((p for p in self.service.children("cpa-worker") if p != old), None),
            15, 0.005, "a replacement worker")
        return pid, time.monotonic() - started

    def test_restarts_back_off_while_a_worker_crash_loops(self):
        pid = self.service.children("cpa-worker")[0]
        time.sleep(1.2)  # it has lived: its first death is restarted at once
        gaps = []
        for _ in range(6):
            os.kill(pid, signal.SIGKILL)
            pid, gap = self.next_worker(pid)
            gaps.append(gap)
        self.assertLess(gaps[0], 0.5, gaps)
        self.assertGreater(gaps[-1], 1.2, gaps)  # 0.1, 0.2, 0.4, 0.8, 1.6 s
        self.assertGreater(gaps[-1], gaps[1] + 0.8, gaps)
        harness.wait_until(lambda: self.api("GET", "health/").status == 200, 5)


class PoolDown(harness.ServiceTestCase):
    with_sink = False

    def test_nginx_answers_502_json_when_the_pool_is_unreachable(self):
        sock = os.path.join(self.service.state_dir, "fcgi.sock")
        os.rename(sock, sock + ".away")
        try:
            # A connection nginx kept from before serves on until its
            # keepalive_time (5 s) ends it; then no new one can be made.
            r = harness.wait_until(
                lambda: (lambda r: r if r.status != 200 else None)(self.api("GET", "health/")),
                10, 0.1, "nginx's kept connections to end")
            self.assertBody(r, 502, {"detail": "Service temporarily unavailable."})
            self.assertTrue(r.header("X-Request-Id"))
            self.assertTrue(r.header("Retry-After"))
        finally:
            os.rename(sock + ".away", sock)
        self.assertEqual(self.api("GET", "health/").status, 200)


class Stop(unittest.TestCase):
    def test_sigterm_to_make_run_leaves_no_process_behind(self):
        root = tempfile.mkdtemp(prefix="cpa-e2e-")
        os.chmod(root, 0o711)  # as Service.start does: nginx's workers must pass
        port = harness.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.update({"AUTH_STATE_DIR": os.path.join(root, "var"), "AUTH_HTTP_PORT": str(port),
                    "AUTH_WORKERS": "2", "AUTH_SECRET_KEY": harness.TEST_SECRET})
        build_dir = os.path.dirname(harness.BINARY)
        make = subprocess.Popen(["make", "-s", "-C", harness.SOURCE_DIR, "run",
                                 "BUILD_DIR=" + build_dir],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        service = harness.Service(root)
        service.port = port
        try:
            harness.wait_until(lambda: self._health(service), 120, 0.2, "make run to serve")
            tree = harness.descendants(make.pid)
            names = {harness.comm(p) for p in tree}
            self.assertIn("cpa-worker", names)
            self.assertIn("cpa-mailer", names)
            self.assertIn("nginx", names)
            make.send_signal(signal.SIGTERM)
            make.wait(30)
            harness.wait_until(lambda: not any(harness.alive(p) for p in tree), 15,
                               what="every process of make run to exit")
            self.assertFalse(os.path.exists(os.path.join(root, "var", "fcgi.sock")))
        finally:
            if make.poll() is None:
                for p in harness.descendants(make.pid) + [make.pid]:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    @staticmethod
    def _health(service):
        try:
            return service.request("GET", "/api/v1/auth/health/", timeout=2).status == 200
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
