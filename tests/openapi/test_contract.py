"""tests/e2e/contract.py, the check the e2e harness runs on every response:
it accepts the answers docs/openapi.json declares and names what is wrong
with any other (the e2e tests only ever show it accepting)."""

import json
import unittest

import contract

API = "/api/v1/auth/"
RID = {"X-Request-Id": "rid-1"}
JSON = dict(RID, **{"Content-Type": "application/json"})
HEALTH = {"status": "ok", "database": "ok", "mail_queue": {"pending": 0, "failed": 0}}
NOT_FOUND = {"detail": "Not found."}
USER = {"id": 7, "email": "you@example.com", "first_name": "", "last_name": "",
        "terms_accepted": True, "email_verified": False, "has_pin": False, "is_active": False,
        "is_staff": False, "date_joined": "2026-11-30T21:05:00Z", "last_login": None}


ORIGIN = "https://app.example.com"
LISTED = {"Access-Control-Allow-Origin": ORIGIN,
          "Access-Control-Expose-Headers": "Retry-After, X-Request-Id", "Vary": "Origin"}
PREFLIGHT = dict(RID, **LISTED, **{
    "Access-Control-Allow-Methods": "GET, PUT, PATCH, DELETE, HEAD",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Id",
    "Access-Control-Max-Age": "600"})


def body(value):
    return json.dumps(value).encode()


class Check(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.contract = contract.Contract()

    def ok(self, method, path, status, headers, payload, request_headers=None):
        self.assertEqual([], self.contract.problems(method, API + path, status, headers, payload,
                                                    request_headers))

    def bad(self, method, path, status, headers, payload, *words, request_headers=None):
        problems = self.contract.problems(method, API + path, status, headers, payload,
                                          request_headers)
        self.assertTrue(problems, "accepted: %s %s %d" % (method, path, status))
        for word in words:
            self.assertIn(word, "\n".join(problems))

    def test_a_declared_answer_passes(self):
        self.ok("GET", "health/", 200, JSON, body(HEALTH))
        self.ok("GET", "health", 200, JSON, body(HEALTH))  # trailing slash optional
        self.ok("POST", "users/", 201, JSON, body(USER))
        self.ok("POST", "users/", 400, JSON, body({"email": ["Enter a valid email address."]}))
        self.ok("DELETE", "users/me/", 204, RID, b"")
        self.ok("GET", "users/12/?limit=3", 404, JSON, body(NOT_FOUND))

    def test_an_undeclared_status_names_the_route_and_what_is_declared(self):
        self.bad("GET", "health/", 201, JSON, body(HEALTH), "GET /health/", "status 201", "200")

    def test_a_body_its_schema_refuses(self):
        self.bad("GET", "health/", 200, JSON, body({"status": "ok"}), "mail_queue")
        self.bad("POST", "users/", 201, JSON, body(dict(USER, id="7")), "'7' is not of type 'integer'")
        # A validation error names only the fields the route takes.
        self.bad("POST", "users/", 400, JSON, body({"pin": ["Invalid PIN."]}), "pin")
        self.bad("GET", "health/", 200, JSON, b"{not json", "not JSON")

    def test_headers_and_media_types(self):
        self.bad("GET", "health/", 200, {"Content-Type": "application/json"}, body(HEALTH), "X-Request-Id")
        self.bad("GET", "health/", 200, dict(RID, **{"Content-Type": "text/html"}), body(HEALTH),
                 "Content-Type")
        throttled = body({"detail": "Request was throttled. Expected available in 3 seconds."})
        self.bad("POST", "users/", 429, JSON, throttled, "Retry-After")
        self.ok("POST", "users/", 429, dict(JSON, **{"Retry-After": "3"}), throttled)
        self.bad("DELETE", "users/me/", 204, RID, b"{}", "no body")

    def test_head_is_get_without_a_body(self):
        self.ok("HEAD", "health/", 200, JSON, b"")
        self.bad("HEAD", "health/", 200, JSON, body(HEALTH), "HEAD")
        self.bad("HEAD", "health/", 201, JSON, b"", "status 201")

    def test_undeclared_methods_get_405_or_401_first_on_locked_paths(self):
        allow = dict(JSON, Allow="GET, HEAD")
        self.ok("POST", "health/", 405, allow, body({"detail": 'Method "POST" not allowed.'}))
        self.bad("POST", "health/", 405, JSON, body({"detail": 'Method "POST" not allowed.'}), "Allow")
        self.bad("POST", "health/", 200, JSON, body(HEALTH), "a method the path does not take")
        unauthenticated = body({"detail": "Authentication credentials were not provided."})
        www = dict(JSON, **{"WWW-Authenticate": 'Bearer realm="api"'})
        self.ok("POST", "users/me/", 401, www, unauthenticated)  # every method of users/me/ is 🔒
        self.bad("PUT", "users/", 401, www, unauthenticated, "status 401")  # POST users/ is public

    def test_paths_outside_the_document_get_the_section_1_shapes(self):
        self.ok("GET", "nope/", 404, JSON, body(NOT_FOUND))
        self.ok("GET", "users/abc/", 404, JSON, body(NOT_FOUND))  # {id} takes digits only
        self.bad("GET", "nope/", 200, JSON, body({}), "outside the document")
        self.bad("GET", "nope/", 404, JSON, body({"detail": "Nope."}), "Not found.")
        self.assertEqual([], self.contract.problems("GET", "/", 404, JSON, body(NOT_FOUND)))

    def test_what_nginx_cannot_read_may_come_from_any_request(self):
        unreadable = body({"detail": "Bad request."})
        self.ok("GET", "health/", 505, JSON, unreadable)
        self.ok("GET", "a" * 17000, 414, JSON, unreadable)
        self.bad("GET", "health/", 505, JSON, body({"detail": "HTTP/2.0"}), "Bad request.")

    # --- CORS (API.md §1): cross-cutting, held to x-cors and x-undeclared's preflight

    def test_a_preflight_from_a_listed_origin_gets_204_with_the_paths_methods(self):
        asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"}
        self.ok("OPTIONS", "users/me/", 204, PREFLIGHT, b"", asked)
        self.ok("OPTIONS", "token/obtain/", 204,
                dict(PREFLIGHT, **{"Access-Control-Allow-Methods": "POST"}), b"", asked)
        # Anything short of the headers, or another path's methods, or a body.
        for name in PREFLIGHT:
            self.bad("OPTIONS", "users/me/", 204, {k: v for k, v in PREFLIGHT.items() if k != name},
                     b"", name, request_headers=asked)
        self.bad("OPTIONS", "token/obtain/", 204, PREFLIGHT, b"", "is not the path's methods",
                 request_headers=asked)
        self.bad("OPTIONS", "users/me/", 204, dict(PREFLIGHT, **{"Access-Control-Max-Age": "86400"}),
                 b"", "Access-Control-Max-Age", request_headers=asked)
        self.bad("OPTIONS", "users/me/", 204, PREFLIGHT, b"{}", "no body", request_headers=asked)
        # Only a preflight, and only to a listed path, may get it.
        self.bad("OPTIONS", "users/me/", 204, PREFLIGHT, b"", "status 204",
                 request_headers={"Origin": ORIGIN})
        self.bad("OPTIONS", "nope/", 204, PREFLIGHT, b"", "outside the document",
                 request_headers=asked)
        # From an origin that is not listed: an OPTIONS like any other.
        unauthenticated = body({"detail": "Authentication credentials were not provided."})
        self.ok("OPTIONS", "users/me/", 401, dict(JSON, **{"WWW-Authenticate": 'Bearer realm="api"'}),
                unauthenticated, asked)
        self.ok("OPTIONS", "health/", 405, dict(JSON, Allow="GET, HEAD"),
                body({"detail": 'Method "OPTIONS" not allowed.'}), asked)

    def test_a_listed_origin_gets_every_cors_header_naming_it(self):
        listed = dict(JSON, **LISTED)
        self.ok("GET", "health/", 200, listed, body(HEALTH), {"Origin": ORIGIN})
        self.ok("GET", "nope/", 404, listed, body(NOT_FOUND), {"Origin": ORIGIN})
        other = {"Origin": "https://else.example"}
        self.ok("GET", "health/", 200, dict(JSON, Vary="Origin"), body(HEALTH), other)
        self.bad("GET", "health/", 200, listed, body(HEALTH), "is not the request's Origin",
                 request_headers=other)
        for name in ("Access-Control-Expose-Headers", "Vary"):
            partial = {k: v for k, v in listed.items() if k != name}
            self.bad("GET", "health/", 200, partial, body(HEALTH), name,
                     request_headers={"Origin": ORIGIN})
        self.bad("GET", "health/", 200, dict(JSON, Vary="Accept"), body(HEALTH), "Vary")

    def test_no_answer_carries_an_undeclared_cors_header(self):
        for name, value in (("Access-Control-Allow-Credentials", "true"),
                            ("Access-Control-Allow-Methods", "GET, HEAD"),
                            ("Access-Control-Max-Age", "600")):
            self.bad("GET", "health/", 200, dict(JSON, **LISTED, **{name: value}), body(HEALTH),
                     name, request_headers={"Origin": ORIGIN})
        self.bad("OPTIONS", "users/me/", 204,
                 dict(PREFLIGHT, **{"Access-Control-Allow-Credentials": "true"}), b"",
                 "Access-Control-Allow-Credentials",
                 request_headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})

    def test_check_raises_with_route_status_and_body(self):
        with self.assertRaises(AssertionError) as caught:
            self.contract.check("GET", API + "health/", 418, JSON, b'{"teapot": true}')
        message = str(caught.exception)
        for part in ("GET /api/v1/auth/health/", "418", "teapot"):
            self.assertIn(part, message)


if __name__ == "__main__":
    unittest.main()
