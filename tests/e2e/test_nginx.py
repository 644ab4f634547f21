"""nginx in front of the pool: per-address limits on the anonymous routes and
on the routes that spend a hash, header limits, nginx's own errors in JSON,
unprivileged workers when started by root, and the production site file
(nginx/cryptopay-auth.site.conf) run for real, with TLS, in front of the same
pool."""

import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import threading
import time
import unittest

import harness

THROTTLED = {"detail": "Request was throttled. Expected available in 1 second."}
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "Content-Security-Policy", "Cache-Control")
# nginx/cryptopay-auth-headers.conf, which the production site includes.
SECURITY_HEADER_VALUES = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def hammer(send, count=250, threads=25):
    results = []
    lock = threading.Lock()

    def run(n):
        for _ in range(n):
            r = send()
            with lock:
                results.append(r)
    ts = [threading.Thread(target=run, args=(count // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results


BAD_REQUEST = {"detail": "Bad request."}
NOT_FOUND = {"detail": "Not found."}


def request_line(method, target, extra=b""):
    return b"%s %s HTTP/1.1\r\nHost: auth.example.com\r\n%sConnection: close\r\n\r\n" % (
        method, target, extra)


class NginxOwnErrors:
    """What nginx refuses by itself, answered in §1's JSON: the cases run
    against the template `run` renders and against the production site.
    `raw(data)` is each class's raw request."""

    def assertJson(self, r, status, body):
        self.assertBody(r, status, body)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertRegex(r.header("X-Request-Id") or "", r"^[A-Za-z0-9._:-]{1,128}$")

    def test_a_nul_in_the_path_is_a_json_400(self):
        self.assertJson(self.raw(request_line(b"GET", b"/api/v1/auth/%00")), 400, BAD_REQUEST)
        self.assertJson(self.raw(request_line(b"POST", b"/api/v1/auth/users/%00/",
                                               b"Content-Length: 2\r\n") + b"{}"),
                        400, BAD_REQUEST)

    def test_a_path_above_the_root_is_a_json_400(self):
        for target in (b"/api/v1/auth/../../../..", b"/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/%2e%2e/x"):
            self.assertJson(self.raw(request_line(b"GET", target)), 400, BAD_REQUEST)
        # Exactly at the root, it is a path like any other.
        self.assertJson(self.raw(request_line(b"GET", b"/api/v1/auth/../../..")), 404, NOT_FOUND)

    def test_a_request_line_over_16_kib_is_a_json_414(self):
        r = self.raw(request_line(b"GET", b"/api/v1/auth/" + b"a" * (17 * 1024)))
        self.assertJson(r, 414, BAD_REQUEST)

    def test_trace_and_connect_are_answered_as_the_pool_answers_any_method(self):
        r = self.raw(request_line(b"TRACE", b"/api/v1/auth/health/"))
        self.assertJson(r, 405, {"detail": 'Method "TRACE" not allowed.'})
        self.assertEqual(r.header("Allow"), "GET, HEAD")
        # Byte for byte what the pool writes for a method it does not serve.
        other = self.raw(request_line(b"PROPFIND", b"/api/v1/auth/health/"))
        self.assertEqual(r.body.replace(b"TRACE", b"PROPFIND"), other.body)
        r = self.raw(request_line(b"CONNECT", b"/api/v1/auth/health/"))
        self.assertJson(r, 405, {"detail": 'Method "CONNECT" not allowed.'})
        # A 🔒 route checks credentials first (§1); an unknown path is a 404.
        r = self.raw(request_line(b"TRACE", b"/api/v1/auth/users/me/"))
        self.assertJson(r, 401, {"detail": "Authentication credentials were not provided."})
        self.assertJson(self.raw(request_line(b"TRACE", b"/")), 404, NOT_FOUND)
        # A body sent with it is never echoed.
        r = self.raw(request_line(b"TRACE", b"/api/v1/auth/health/",
                                   b"Content-Length: 6\r\n") + b"secret")
        self.assertNotIn(b"secret", r.body)
        self.assertEqual(r.status, 405)

    def test_unsupported_version_and_transfer_coding_keep_their_status(self):
        r = self.raw(b"GET /api/v1/auth/health/ HTTP/2.0\r\nHost: x\r\n\r\n")
        self.assertJson(r, 505, BAD_REQUEST)
        r = self.raw(request_line(b"POST", b"/api/v1/auth/users/", b"Transfer-Encoding: gzip\r\n"))
        self.assertJson(r, 501, BAD_REQUEST)

    def test_a_garbled_request_line_is_a_json_400(self):
        for data in (b"GARBAGE\r\n\r\n", request_line(b"get", b"/api/v1/auth/health/")):
            self.assertJson(self.raw(data), 400, BAD_REQUEST)

    def test_the_internal_error_pages_are_not_reachable_from_outside(self):
        for target in (b"/_cpa/bad_request", b"/_cpa/internal_error", b"/_cpa/not_found"):
            self.assertJson(self.raw(request_line(b"GET", target)), 404, NOT_FOUND)


class OwnErrors(NginxOwnErrors, harness.ServiceTestCase):
    with_sink = False

    def raw(self, data):
        return harness.raw_request(self.service.port, data)


def nginx_worker_account():
    """(user, group) nginx's workers drop to when `run` is started by root."""
    import grp
    import pwd
    for name in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name
    return "nobody", "nogroup"


def as_user(name, *argv):
    """Runs argv as `name` (with its groups): what nginx's workers could do."""
    import pwd
    pw = pwd.getpwnam(name)
    return subprocess.run(list(argv), user=pw.pw_uid, group=pw.pw_gid,
                          extra_groups=os.getgrouplist(name, pw.pw_gid), capture_output=True)


class UnprivilegedWorkers(harness.ServiceTestCase):
    with_sink = False
    service_env = {"AUTH_SECRET_KEY": ""}  # so that secret.key is made in the state dir

    @classmethod
    def setUpClass(cls):
        # nginx changes user only when started by root, which is how CI runs
        # the suite: without root this test cannot do its work, and fails.
        if os.geteuid() != 0:
            raise AssertionError("UnprivilegedWorkers must run as root (nginx drops to its "
                                 "workers' user only when started by root)")
        super().setUpClass()

    def nginx_workers(self):
        [master] = self.service.children("nginx")
        return harness.child_pids(master)

    def test_nginx_workers_do_not_run_as_root(self):
        user, _ = nginx_worker_account()
        workers = self.nginx_workers()
        self.assertTrue(workers)
        for pid in workers:
            ps = subprocess.run(["ps", "-o", "user=", "-p", str(pid)], capture_output=True,
                                text=True, check=True)
            self.assertEqual(ps.stdout.strip(), user, pid)
        # Both pools are still reached.
        self.assertEqual(self.api("GET", "health/").status, 200)
        r = self.api("POST", "token/obtain/", {"email": "a@example.com", "password": "x"})
        self.assertBody(r, 401, {"detail": "No active account found with the given credentials"})

    def test_they_reach_the_sockets_and_their_temp_dirs_only(self):
        user, _ = nginx_worker_account()
        state = self.service.state_dir
        st = os.stat(state)
        self.assertEqual(st.st_mode & 0o777, 0o710)
        for sock in ("fcgi.sock", "fcgi-hash.sock"):
            self.assertEqual(as_user(user, "test", "-w", os.path.join(state, sock)).returncode, 0)
        self.assertEqual(as_user(user, "test", "-w", os.path.join(state, "nginx", "client_body"))
                         .returncode, 0)
        # Not the database, the key or the logs; not even the names in the dir.
        for name in ("secret.key", "auth.log") + (() if harness.ON_POSTGRESQL else ("auth.db",)):
            path = os.path.join(state, name)
            self.assertTrue(os.path.exists(path), path)
            self.assertNotEqual(as_user(user, "cat", path).returncode, 0, path)
        self.assertNotEqual(as_user(user, "ls", state).returncode, 0)

    def run_in(self, state_dir):
        env = self.service.environment()
        env.update({"AUTH_STATE_DIR": state_dir, "AUTH_HTTP_PORT": str(harness.free_port())})
        return subprocess.run([harness.BINARY, "run"], env=env, capture_output=True, text=True,
                              timeout=30)

    def test_a_state_dir_they_cannot_reach_is_refused_at_start(self):
        user, _ = nginx_worker_account()
        private = os.path.join(self.root, "private")
        os.mkdir(private, 0o700)
        r = self.run_in(os.path.join(private, "state"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("nginx's workers run as %s, who cannot reach %s/state/nginx: " % (user, private),
                      r.stderr)

    @harness.sqlite_only
    def test_a_database_they_could_read_is_made_private(self):
        # As an older version left it: SQLite made it 0644. Opening it narrows
        # it to the service's alone (store/db.cc) before nginx starts, so the
        # workers' check then finds nothing they could read.
        user, _ = nginx_worker_account()
        state = os.path.join(self.root, "old-state")
        os.mkdir(state, 0o750)
        db = os.path.join(state, "auth.db")
        open(db, "w").close()
        os.chmod(db, 0o644)
        env = self.service.environment()
        env.update({"AUTH_STATE_DIR": state})
        r = subprocess.run([harness.BINARY, "migrate"], env=env, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.stat(db).st_mode & 0o777, 0o600)
        self.assertNotEqual(as_user(user, "cat", db).returncode, 0)

PIN = "135790"


def hash_and_cheap_burst(service, send, email, hash_count=60, cheap_count=60):
    """An account with a PIN (made with the command line: no mail needed),
    then `hash_count` POST verify-pin/ (a PIN hash each) and `cheap_count`
    GET users/me/ with its token, all released at once from one address.
    `send(method, route, body, token)` → Response. Returns the answers of
    each kind."""
    r = service.cli("createsuperuser", "--email", email, stdin="Gago123@\n")
    assert r.returncode == 0, r.stderr
    r = send("POST", "token/obtain/", {"email": email, "password": "Gago123@"}, None)
    assert r.status == 200, r
    token = r.json()["access"]
    r = send("POST", "set-pin/", {"pin": PIN, "repeat_pin": PIN}, token)
    assert r.status == 200, r
    time.sleep(1.5)  # what obtain and set-pin took from the bucket comes back
    jobs = ([("POST", "verify-pin/", {"pin": PIN})] * hash_count
            + [("GET", "users/me/", None)] * cheap_count)
    start = threading.Barrier(len(jobs))
    answers = {"verify-pin/": [], "users/me/": []}
    lock = threading.Lock()

    def run(method, route, body):
        start.wait()
        r = send(method, route, body, token)
        with lock:
            answers[route].append(r)
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers["verify-pin/"], answers["users/me/"]


class HashRouteLimits:
    """The per-address limit on the routes that spend a hash (cpa_hash),
    tokens or not, while the cheap authenticated routes stay unlimited: for
    the template `run` renders and for the production site. `send(method,
    route, body, token)` is each class's request."""

    def test_hash_routes_are_limited_with_a_token_too(self):
        pins, mes = hash_and_cheap_burst(self.service, self.send, self.unique_email("burst"))
        statuses = [r.status for r in pins]
        self.assertIn(429, statuses)
        self.assertIn(200, statuses)
        self.assertTrue(set(statuses) <= {200, 429}, statuses)
        # nginx's 429 (1 s) comes first; the service's own per-account hash
        # budget (30 in 10 minutes, unit/api/security_test.cc) may answer the
        # rest of one account's burst with its own, longer 429.
        nginx_429 = 0
        for r in pins:
            if r.status == 429 and r.header("Retry-After") == "1":
                self.assertBody(r, 429, THROTTLED)
                nginx_429 += 1
            elif r.status == 429:
                self.assertTrue(r.body.startswith(
                    b'{"detail":"Request was throttled. Expected available in '), r)
            else:
                self.assertBody(r, 200, {"detail": "PIN is valid."})
        self.assertGreater(nginx_429, 0)
        self.assertEqual([r.status for r in mes], [200] * len(mes))
        time.sleep(5)  # the bucket refills: the other tests start afresh


class Limits(HashRouteLimits, harness.ServiceTestCase):
    with_sink = False
    service_env = {"AUTH_THROTTLE": "on"}

    def test_anonymous_routes_are_limited_per_address(self):
        results = hammer(lambda: self.api("POST", "resend-code/",
                                          {"email": "x@example.com", "purpose": "email_verification"}))
        statuses = [r.status for r in results]
        self.assertIn(429, statuses)
        self.assertIn(200, statuses)
        self.assertTrue(set(statuses) <= {200, 429}, set(statuses))
        throttled = [r for r in results if r.status == 429][0]
        self.assertBody(throttled, 429, THROTTLED)
        self.assertEqual(throttled.header("Retry-After"), "1")
        self.assertTrue(throttled.header("X-Request-Id"))
        time.sleep(5.5)  # the burst refills (20 r/s x 100): the other tests start afresh

    def send(self, method, route, body, token):
        return self.api(method, route, body, token=token)

    def test_authenticated_routes_and_health_are_not(self):
        results = hammer(lambda: self.api("GET", "health/"))
        self.assertEqual({r.status for r in results}, {200})

    def test_oversized_headers_get_a_json_400(self):
        r = self.api("GET", "health/", headers={"X-Big": "a" * 20000})
        self.assertBody(r, 400, {"detail": "Bad request."})


class SiteNginx(harness.ServiceTestCase):
    """The admin's site file, TLS and all, in front of this test's pool: the
    setup the production tests share. `site_edits`: more (old, new) text
    replacements, as an admin's edits."""
    with_sink = False
    site_edits = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = os.path.join(cls.root, "site")
        os.makedirs(os.path.join(d, "tmp"))
        # The ACME webroot: readable by nginx's workers (they may run as
        # www-data), as /var/www/letsencrypt is.
        cls.webroot = os.path.join(d, "webroot")
        cls.access_log = os.path.join(d, "access.log")
        os.makedirs(os.path.join(cls.webroot, ".well-known", "acme-challenge"))
        os.chmod(d, 0o755)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=auth.example.com", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        cls.http_port, cls.https_port = harness.free_port(), harness.free_port()
        nginx_dir = os.path.join(harness.SOURCE_DIR, "nginx")
        with open(os.path.join(nginx_dir, "cryptopay-auth.site.conf")) as f:
            site = f.read()
        for old, new in (
                # A self-signed certificate where the site expects one, as
                # README's first step puts it: nginx -t passes at once.
                ("/etc/ssl/cryptopay-auth/fullchain.pem", cert),
                ("/etc/ssl/cryptopay-auth/privkey.pem", key),
                ("root /var/www/letsencrypt;", "root %s;" % cls.webroot),
                ("/var/log/nginx/cryptopay-auth.access.log", cls.access_log),
                ("/etc/nginx/snippets/cryptopay-auth-headers.conf",
                 os.path.join(nginx_dir, "cryptopay-auth-headers.conf")),
                ("unix:/run/cryptopay-auth/fcgi.sock",
                 "unix:" + os.path.join(cls.service.state_dir, "fcgi.sock")),
                ("unix:/run/cryptopay-auth/fcgi-hash.sock",
                 "unix:" + os.path.join(cls.service.state_dir, "fcgi-hash.sock")),
                ("/etc/nginx/snippets/", nginx_dir + "/"),  # the snippets beside it
                # The copy `run` made where nginx's workers may read it.
                ("/usr/local/share/cryptopay-auth/swagger-ui/",
                 os.path.join(cls.service.state_dir, "nginx", "swagger-ui") + "/"),
                ("    listen [::]:80;\n", ""), ("    listen [::]:443 ssl http2;\n", ""),
                ("listen 80;", "listen 127.0.0.1:%d;" % cls.http_port),
                ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % cls.https_port))\
                + tuple(cls.site_edits):
            assert old in site, old
            site = site.replace(old, new)
        with open(os.path.join(d, "site.conf"), "w") as f:
            f.write(site)
        tmp = os.path.join(d, "tmp")
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("%s\nworker_processes 1;\npid %s/nginx.pid;\nevents {}\nhttp {\n"
                    "  client_body_temp_path %s/b; fastcgi_temp_path %s/f; proxy_temp_path %s/p;\n"
                    "  uwsgi_temp_path %s/u; scgi_temp_path %s/s;\n  access_log off;\n"
                    "  include %s/site.conf;\n}\n"
                    % ("user %s %s;" % nginx_worker_account() if os.geteuid() == 0 else "",
                       d, tmp, tmp, tmp, tmp, tmp, d))
        nginx = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
        check = subprocess.run([nginx, "-t", "-p", d, "-c", conf, "-e", os.path.join(d, "err.log")],
                               capture_output=True, text=True)
        cls.nginx_t = check
        cls.nginx = subprocess.Popen([nginx, "-p", d, "-c", conf, "-e", os.path.join(d, "err.log"),
                                      "-g", "daemon off;"])
        cls.addClassCleanup(cls._stop_nginx)
        harness.wait_until(lambda: cls._https("GET", "/api/v1/auth/health/", quiet=True),
                           what="the site nginx")

    @classmethod
    def _stop_nginx(cls):
        cls.nginx.send_signal(signal.SIGQUIT)
        try:
            cls.nginx.wait(10)
        except subprocess.TimeoutExpired:
            cls.nginx.kill()
            cls.nginx.wait()

    @classmethod
    def _https(cls, method, path, body=None, headers=None, quiet=False, source=None):
        conn = http.client.HTTPSConnection("127.0.0.1", cls.https_port, timeout=10,
                                           context=ssl._create_unverified_context(),
                                           source_address=(source, 0) if source else None)
        try:
            h = {"Host": "auth.example.com"}
            h.update(headers or {})
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return harness.Response(r.status, r.headers, r.read())
        except OSError:
            if quiet:
                return None
            raise
        finally:
            conn.close()

    def raw(self, data):
        return harness.raw_request(self.https_port, data, tls_host="auth.example.com")

    def send(self, method, route, body, token):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        return self._https(method, "/api/v1/auth/" + route,
                           None if body is None else json.dumps(body), headers)


class ProductionSite(NginxOwnErrors, HashRouteLimits, SiteNginx):

    def test_the_site_file_passes_nginx_t(self):
        self.assertEqual(self.nginx_t.returncode, 0, self.nginx_t.stderr)

    def test_a_request_id_is_in_nginx_access_log_and_in_the_service_log(self):
        def lines_with(path, rid):
            with open(path, encoding="utf-8", errors="replace") as f:
                return [line for line in f if ("rid=%s " % rid) in line]
        # The client's id, when sane; else nginx's own, which the answer names.
        rid = "trace-%d.site:1" % os.getpid()
        self.assertEqual(self._https("GET", "/api/v1/auth/health/",
                                     headers={"X-Request-Id": rid}).header("X-Request-Id"), rid)
        r = self._https("POST", "/api/v1/auth/token/verify/", b'{"token": "x"}',
                        {"Content-Type": "application/json", "X-Request-Id": "not sane!"})
        generated = r.header("X-Request-Id")
        self.assertRegex(generated, r"^[0-9a-f]{32}$")
        for request_id, line in ((rid, '"GET /api/v1/auth/health/" 200 '),
                                 (generated, '"POST /api/v1/auth/token/verify/" 401 ')):
            nginx = harness.wait_until(lambda: lines_with(self.access_log, request_id),
                                       what="nginx's line for " + request_id)
            self.assertEqual(len(nginx), 1, nginx)
            self.assertIn(line, nginx[0])
            service = harness.wait_until(
                lambda: lines_with(self.service.log_path, request_id),
                what="the service's line for " + request_id)
            self.assertEqual(len(service), 1, service)
            self.assertRegex(service[0], r"(worker|hasher)\[\d+\] info rid=%s %s "
                             % (re.escape(request_id), re.escape(line.split('"')[1])))

    def test_api_over_tls_with_security_headers(self):
        r = self._https("GET", "/api/v1/auth/health/")
        self.assertBody(r, 200, {"status": "ok", "database": "ok",
                                 "mail_queue": {"pending": 0, "failed": 0}})
        for name in SECURITY_HEADERS:
            self.assertTrue(r.header(name), name)
        self.assertEqual(r.header("Server"), "nginx")  # server_tokens off: no version
        self.assertTrue(r.header("X-Request-Id"))

    def assertSecurityHeaders(self, r):
        """Each security header once (add_header in a location replaces the
        server's: the snippet must be in both), with the snippet's value."""
        for name, value in SECURITY_HEADER_VALUES.items():
            self.assertEqual(r.headers.get_all(name), [value], (name, r))

    def test_nginx_answers_in_the_contracts_shapes(self):
        r = self._https("GET", "/")
        self.assertBody(r, 404, {"detail": "Not found."})
        self.assertSecurityHeaders(r)
        r = self._https("POST", "/api/v1/auth/users/", b"x" * (70 * 1024),
                        {"Content-Type": "application/json"})
        self.assertBody(r, 413, {"detail": "Request body too large."})
        self.assertSecurityHeaders(r)
        self.assertEqual(len(r.headers.get_all("X-Request-Id")), 1)
        r = self._https("GET", "/api/v1/auth/nope/")  # the pool's 404
        self.assertBody(r, 404, {"detail": "Not found."})
        self.assertSecurityHeaders(r)
        r = self.raw(request_line(b"GET", b"/api/v1/auth/%00"))  # nginx's 400, no URI yet
        self.assertEqual(r.status, 400)
        self.assertSecurityHeaders(r)

    def test_metrics_only_for_the_listed_addresses(self):
        r = self._https("GET", "/api/v1/auth/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4")
        self.assertIn(b"\ncryptopay_auth_build_info{version=", r.body)
        self.assertSecurityHeaders(r)
        # nginx's deny is §1's 404, whatever the method.
        for method in ("GET", "POST"):
            r = self._https(method, "/api/v1/auth/metrics/", source="127.0.0.2")
            self.assertBody(r, 404, {"detail": "Not found."})
            self.assertSecurityHeaders(r)

    def _http(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": "auth.example.com"})
            r = conn.getresponse()
            return harness.Response(r.status, r.headers, r.read())
        finally:
            conn.close()

    def test_port_80_serves_acme_challenges_and_redirects_the_rest(self):
        token = "tok-%d_AbC" % os.getpid()
        path = os.path.join(self.webroot, ".well-known", "acme-challenge", token)
        with open(path, "w") as f:
            f.write(token + ".thumbprint")
        os.chmod(path, 0o644)
        r = self._http("/.well-known/acme-challenge/" + token)
        self.assertEqual((r.status, r.body), (200, (token + ".thumbprint").encode()))
        self.assertEqual(r.header("Content-Type"), "text/plain")
        self.assertEqual(r.header("Server"), "nginx")  # server_tokens off here too
        # A token that is not there is a 404 (the CA asks again), not a redirect.
        self.assertEqual(self._http("/.well-known/acme-challenge/missing").status, 404)
        for other in ("/", "/api/v1/auth/health/", "/.well-known/other"):
            r = self._http(other)
            self.assertEqual(r.status, 301, other)
            self.assertEqual(r.header("Location"), "https://auth.example.com" + other)
            self.assertEqual(r.header("Server"), "nginx")

    def test_the_docs_page_and_its_assets(self):
        r = self._https("GET", "/api/v1/auth/docs/")
        self.assertEqual((r.status, r.header("Content-Type")), (200, "text/html; charset=utf-8"))
        policy = r.header("Content-Security-Policy")
        self.assertIn("script-src 'self'", policy)
        self.assertIn("frame-ancestors 'none'", policy)
        for name in SECURITY_HEADERS:  # the location repeats the server's headers
            self.assertTrue(r.header(name), name)
        r = self._https("GET", "/api/v1/auth/docs/assets/swagger-ui-bundle.js")
        self.assertEqual((r.status, r.header("Content-Type")), (200, "text/javascript"))
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertBody(self._https("GET", "/api/v1/auth/docs/assets/nope.js"), 404,
                        {"detail": "Not found."})
        r = self._https("GET", "/api/v1/auth/schema/")
        self.assertEqual((r.status, r.header("Content-Type")), (200, "application/vnd.oai.openapi+json"))

    def test_password_hashing_routes_go_to_their_own_pool(self):
        for i, (path, pool) in enumerate((("/api/v1/auth/token/obtain/", "hasher"),
                                          ("/api/v1/auth/token/verify/", "worker"))):
            rid = "site-pool-%d-%d" % (os.getpid(), i)
            self._https("POST", path, '{}', {"Content-Type": "application/json", "X-Request-Id": rid})
            self.assertEqual(self.service.served_by(rid), pool, path)

    def test_plain_http_redirects_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        conn.request("GET", "/api/v1/auth/health/", headers={"Host": "auth.example.com"})
        r = conn.getresponse()
        self.assertEqual(r.status, 301)
        self.assertEqual(r.headers["Location"], "https://auth.example.com/api/v1/auth/health/")
        conn.close()

    def test_anonymous_routes_are_limited(self):
        results = hammer(lambda: self._https("POST", "/api/v1/auth/resend-code/",
                                             '{"email": "x@example.com", "purpose": "email_verification"}',
                                             {"Content-Type": "application/json"}), 80, 8)
        statuses = {r.status for r in results}
        self.assertEqual(statuses, {200, 429})
        throttled = [r for r in results if r.status == 429][0]
        self.assertBody(throttled, 429, THROTTLED)
        self.assertEqual(throttled.header("Retry-After"), "1")
        self.assertSecurityHeaders(throttled)
        time.sleep(2.5)  # the burst refills (10 r/s x 20): the other tests start afresh


if __name__ == "__main__":
    unittest.main()
