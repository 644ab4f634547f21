"""CORS (API.md §1 "Browsers (CORS)") through real nginx: the template `run`
renders from AUTH_CORS_ORIGINS, and the production site file with origins on
its `set $cpa_cors_origins` line; each with origins listed and with none.

The same cases run against all four. An answer to a listed origin carries
exactly Access-Control-Allow-Origin (that origin) and
Access-Control-Expose-Headers, whoever wrote it: the pool (200, 401, 404) or
nginx (its own 404, 413, 429, 502); with origins listed, every answer carries
Vary: Origin; any other origin gets no Access-Control-* header. A preflight
from a listed origin is nginx's 204, with the route's methods, before any
token check or limit, and never reaches the pool; from another origin it is
an OPTIONS like any other. With no origin listed there is no CORS header and
no Vary at all. Every answer is also held to docs/openapi.json (x-cors and
x-undeclared's preflight) with the request's headers. And `serve`, which
has no nginx of its own, says where the origins go instead."""

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import test_nginx

LISTED = "https://app.example.com"
ALSO_LISTED = "http://localhost:5173"
# Not listed: another site, and spellings that are not exactly a listed origin.
NOT_LISTED = ("https://evil.example", LISTED + "/", "HTTPS://APP.EXAMPLE.COM",
              "https://app.example.com.evil.example", "https://app.example.co", "null",
              LISTED + " " + ALSO_LISTED)
EXPOSE = "Retry-After, X-Request-Id"
ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id"
SESSION_ID = "0123456789abcdef0123456789abcdef"
NOT_FOUND = {"detail": "Not found."}
UNAVAILABLE = {"detail": "Service temporarily unavailable."}
THROTTLED = {"detail": "Request was throttled. Expected available in 1 second."}
UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}


def cors_headers(r):
    return {name: value for name, value in r.headers.items()
            if name.lower().startswith("access-control-")}


class CorsCases:
    """The cases. Each class sets `origins` (what it lists) and defines
    `call(method, path, body=None, headers=None)` → Response, already held
    to docs/openapi.json, and `burst` (requests that overflow its anonymous
    limit, sent 10 at a time)."""

    origins = ()
    burst = 250

    # --- what every answer carries

    def origin_headers(self):
        """Request headers with each kind of origin: listed ones, not listed
        ones, none."""
        return [{"Origin": o} for o in (LISTED, ALSO_LISTED) + NOT_LISTED] + [{}]

    def assertCors(self, r, sent):
        """`r`, the answer to a request with headers `sent`, has exactly the
        CORS headers API.md §1 gives it."""
        origin = sent.get("Origin")
        if origin in self.origins:
            self.assertEqual(cors_headers(r), {"Access-Control-Allow-Origin": origin,
                                               "Access-Control-Expose-Headers": EXPOSE}, (sent, r))
        else:
            self.assertEqual(cors_headers(r), {}, (sent, r))
        self.assertEqual(r.headers.get_all("Vary") or [], ["Origin"] if self.origins else [], (sent, r))
        self.assertRegex(r.header("X-Request-Id") or "", r"^[A-Za-z0-9._:-]{1,128}$")
        self.assertEqual(len(r.headers.get_all("X-Request-Id")), 1, r)

    def assertEveryOrigin(self, send, status, body):
        """send(headers) for each kind of origin: the status, body and CORS headers."""
        for headers in self.origin_headers():
            r = send(dict(headers))
            self.assertEqual((r.status, r.json()), (status, body), (headers, r))
            self.assertCors(r, headers)

    def test_an_answer_of_the_pool(self):
        # Other tests of the class queue mail (resend-code/): health/ names
        # the queue, so let the mailer empty it first.
        harness.wait_until(
            lambda: self.call("GET", "/api/v1/auth/health/").json()["mail_queue"]["pending"] == 0,
            what="an empty mail queue")
        self.assertEveryOrigin(lambda h: self.call("GET", "/api/v1/auth/health/", headers=h), 200,
                               {"status": "ok", "database": "ok",
                                "mail_queue": {"pending": 0, "failed": 0}})

    def test_a_401(self):
        self.assertEveryOrigin(lambda h: self.call("GET", "/api/v1/auth/users/me/", headers=h), 401,
                               UNAUTHENTICATED)

    def test_the_pools_404_and_nginxs_own(self):
        for path in ("/api/v1/auth/nope/", "/", "/api/v1/auth/docs/assets/nope.js"):
            self.assertEveryOrigin(lambda h: self.call("GET", path, headers=h), 404, NOT_FOUND)

    def test_nginxs_own_413(self):
        self.assertEveryOrigin(
            lambda h: self.call("POST", "/api/v1/auth/users/", b"x" * (70 * 1024),
                                dict(h, **{"Content-Type": "application/json"})),
            413, {"detail": "Request body too large."})

    def test_nginxs_own_502_when_the_pool_is_unreachable(self):
        sock = os.path.join(self.service.state_dir, "fcgi.sock")
        os.rename(sock, sock + ".away")
        try:
            self.assertEveryOrigin(lambda h: self.call("GET", "/api/v1/auth/health/", headers=h),
                                   502, UNAVAILABLE)
        finally:
            os.rename(sock + ".away", sock)
        self.assertEqual(self.call("GET", "/api/v1/auth/health/").status, 200)

    def test_nginxs_own_429_and_preflights_are_not_limited(self):
        # One address floods an anonymous route, each kind of origin in turn.
        kinds = itertools.cycle(self.origin_headers())
        body = json.dumps({"email": "x@example.com", "purpose": "email_verification"})
        results = test_nginx.hammer(
            lambda: self.call("POST", "/api/v1/auth/resend-code/", body,
                              dict(next(kinds), **{"Content-Type": "application/json"})),
            self.burst, 10)
        # While it is throttled, preflights from a listed origin still get their 204.
        if self.origins:
            r = self.preflight("resend-code/", LISTED)
            self.assertEqual(r.status, 204, r)
        throttled = [r for r in results if r.status == 429]
        self.assertTrue(throttled, {r.status for r in results})
        self.assertEqual({r.status for r in results}, {200, 429})
        seen = set()
        for r in throttled:
            self.assertEqual(r.json(), THROTTLED)
            self.assertEqual(r.header("Retry-After"), "1")
            sent = r.sent
            self.assertCors(r, sent)
            seen.add(sent.get("Origin") in self.origins)
        self.assertEqual(seen, {True, False} if self.origins else {False})
        time.sleep(6)  # the bucket refills: the other tests start afresh

    # --- preflights

    def preflight(self, route, origin, method="POST", path=None, rid=None):
        headers = {"Origin": origin, "Access-Control-Request-Method": method,
                   "Access-Control-Request-Headers": "authorization,content-type,x-request-id"}
        if rid:
            headers["X-Request-Id"] = rid
        return self.call("OPTIONS", path or "/api/v1/auth/" + route, headers=headers)

    def assertPreflight(self, r, origin, methods, rid=None):
        """nginx's 204 to a listed origin's preflight, exactly."""
        self.assertEqual((r.status, r.body), (204, b""), r)
        self.assertEqual(cors_headers(r), {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
            "Access-Control-Expose-Headers": EXPOSE}, r)
        self.assertEqual(r.headers.get_all("Vary"), ["Origin"])
        self.assertEqual(r.headers.get_all("X-Request-Id"), [rid] if rid else [r.header("X-Request-Id")])
        self.assertIsNone(r.header("Content-Type"))
        self.assertIsNone(r.header("Allow"))

    def test_a_public_routes_preflight(self):
        rid = "cors-preflight-%d" % os.getpid()
        r = self.preflight("token/obtain/", LISTED, rid=rid)
        if not self.origins:
            self.assertBody(r, 405, {"detail": 'Method "OPTIONS" not allowed.'})
            self.assertEqual(r.header("Allow"), "POST")
            return self.assertCors(r, {"Origin": LISTED})
        self.assertPreflight(r, LISTED, "POST", rid)
        # nginx answered it: the pool never saw it (its log has every request
        # it serves, and has the one sent after it).
        after = "cors-after-%d" % os.getpid()
        self.call("GET", "/api/v1/auth/health/", headers={"X-Request-Id": after})
        self.service.served_by(after)
        self.assertNotIn("rid=" + rid + " ", self.service.read_log())

    def test_a_locked_routes_preflight_needs_no_token(self):
        for route, methods in (("users/me/", "GET, PUT, PATCH, DELETE, HEAD"),
                               ("users/me", "GET, PUT, PATCH, DELETE, HEAD"),
                               ("users/42/", "GET, PUT, PATCH, DELETE, HEAD"),
                               ("users/", "GET, POST, HEAD"),
                               ("sessions/", "GET, DELETE, HEAD"),
                               ("sessions/%s/" % SESSION_ID, "DELETE"),
                               ("verify-pin/", "POST")):
            for origin in (LISTED, ALSO_LISTED):
                r = self.preflight(route, origin, method="DELETE" if "DELETE" in methods else "POST")
                if self.origins:
                    self.assertPreflight(r, origin, methods)
                elif route == "users/":  # GET is 🔒, POST is not: 405 with Allow
                    self.assertBody(r, 405, {"detail": 'Method "OPTIONS" not allowed.'})
                else:
                    self.assertBody(r, 401, UNAUTHENTICATED)

    def test_a_preflight_from_an_origin_not_listed_is_an_options_like_any_other(self):
        for origin in NOT_LISTED:
            r = self.preflight("token/obtain/", origin)
            self.assertBody(r, 405, {"detail": 'Method "OPTIONS" not allowed.'})
            self.assertEqual(r.header("Allow"), "POST")
            self.assertCors(r, {"Origin": origin})
            r = self.preflight("users/me/", origin, method="PATCH")
            self.assertBody(r, 401, UNAUTHENTICATED)
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="api"')
            self.assertCors(r, {"Origin": origin})

    def test_an_options_that_is_no_preflight_is_answered_by_the_pool(self):
        # From a listed origin but without Access-Control-Request-Method.
        for headers in ({"Origin": LISTED}, {"Access-Control-Request-Method": "POST"}):
            r = self.call("OPTIONS", "/api/v1/auth/token/obtain/", headers=headers)
            self.assertBody(r, 405, {"detail": 'Method "OPTIONS" not allowed.'})
            self.assertCors(r, headers)

    def test_the_preflight_of_a_path_that_is_no_route_gets_its_404(self):
        for path in ("/api/v1/auth/nope/", "/api/v1/auth/users/abc/", "/api/v1/auth/",
                     "/api/v1/auth/users/1234567890123456789/", "/elsewhere"):
            for origin in (LISTED, NOT_LISTED[0]):
                r = self.preflight(None, origin, path=path)
                self.assertBody(r, 404, NOT_FOUND)
                self.assertCors(r, {"Origin": origin})

    def test_a_flood_of_preflights_is_never_limited_nor_counted(self):
        results = test_nginx.hammer(lambda: self.preflight("resend-code/", LISTED), self.burst, 10)
        if not self.origins:  # the pool's 405s, under the anonymous limit
            self.assertLessEqual({r.status for r in results}, {405, 429})
            return time.sleep(6)
        self.assertEqual({r.status for r in results}, {204})
        # They took nothing from the address's allowance.
        r = self.call("POST", "/api/v1/auth/resend-code/",
                      json.dumps({"email": "y@example.com", "purpose": "email_verification"}),
                      {"Content-Type": "application/json", "Origin": LISTED})
        self.assertEqual(r.status, 200, r)
        self.assertCors(r, {"Origin": LISTED})


class DevNginx(CorsCases, harness.ServiceTestCase):
    """`run`'s nginx with AUTH_CORS_ORIGINS (spaces after the comma allowed)."""
    with_sink = False
    origins = (LISTED, ALSO_LISTED)
    service_env = {"AUTH_CORS_ORIGINS": LISTED + ", " + ALSO_LISTED, "AUTH_THROTTLE": "on"}

    def call(self, method, path, body=None, headers=None):
        r = self.service.request(method, path, body, dict(headers or {}))
        r.sent = dict(headers or {})  # for the checks of answers collected in a burst
        return r


class DevNginxWithoutOrigins(DevNginx):
    """`run`'s nginx by default: no CORS header, no Vary."""
    origins = ()
    service_env = {"AUTH_THROTTLE": "on"}


class SiteFile(CorsCases, test_nginx.SiteNginx):
    """The production site file with two origins on its `set` line."""
    origins = (LISTED, ALSO_LISTED)
    site_edits = (('set $cpa_cors_origins "";',
                   'set $cpa_cors_origins "%s %s";' % (LISTED, ALSO_LISTED)),)
    burst = 80  # 10 r/s, burst 20

    def call(self, method, path, body=None, headers=None):
        sent = dict(headers or {})
        r = self._https(method, path, body, sent)
        harness.CONTRACT.check(method, path, r.status, r.headers, r.body, sent)
        r.sent = sent
        return r

    def test_the_site_file_passes_nginx_t(self):
        self.assertEqual(self.nginx_t.returncode, 0, self.nginx_t.stderr)
        self.assertNotIn("warn", self.nginx_t.stderr.replace("test is successful", ""))


class SiteFileAsShipped(SiteFile):
    """The site file as shipped lists no origin: no CORS header, no Vary."""
    origins = ()
    site_edits = ()


class Serve(unittest.TestCase):
    def test_serve_says_where_the_origins_go_behind_the_system_nginx(self):
        root = tempfile.mkdtemp(prefix="cpa-e2e-")
        self.addCleanup(shutil.rmtree, root, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.update({"AUTH_STATE_DIR": os.path.join(root, "state"), "AUTH_WORKERS": "1",
                    "AUTH_HASH_WORKERS": "1", "AUTH_SECRET_KEY": harness.TEST_SECRET,
                    "AUTH_CORS_ORIGINS": LISTED})
        os.mkdir(env["AUTH_STATE_DIR"])
        serve = subprocess.Popen([harness.BINARY, "serve"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            log = os.path.join(env["AUTH_STATE_DIR"], "auth.log")
            warning = ("AUTH_CORS_ORIGINS is for `run`'s nginx only: behind the system nginx, "
                       "list the origins on the site file's `set $cpa_cors_origins` line")
            harness.wait_until(lambda: os.path.exists(log) and warning in open(log).read(),
                               what="serve's warning")
        finally:
            serve.terminate()
            serve.wait(25)


if __name__ == "__main__":
    unittest.main()
