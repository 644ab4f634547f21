"""Sessions (API.md §9) and the refresh reuse grace (§4) through nginx: the
wire bytes of GET sessions/, DELETE sessions/<id>/ and DELETE sessions/, the
405s and 401s, the client address nginx saw and the User-Agent sent, and
concurrent refreshes of one token with and without AUTH_REFRESH_REUSE_GRACE."""

import json
import threading
import time
import unittest

import harness

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
NOT_FOUND = {"detail": "Not found."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
NOT_VALID = {"detail": "Given token not valid for any token type", "code": "token_not_valid"}


def claims(token):
    return json.loads(harness.jwt_parts(token)[1])


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class SessionsCase(harness.ServiceTestCase):

    def login_with(self, email, user_agent=None, source=None):
        headers = {"User-Agent": user_agent} if user_agent is not None else {}
        r = self.api("POST", "token/obtain/", {"email": email, "password": "Gago123@"},
                     headers=headers, source=source)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def refresh(self, token, user_agent=None, source=None):
        headers = {"User-Agent": user_agent} if user_agent is not None else {}
        return self.api("POST", "token/refresh/", {"refresh": token}, headers=headers,
                        source=source)

    def sessions(self, access, query=""):
        r = self.api("GET", "sessions/" + query, token=access)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def concurrent_refreshes(self, token, n=8):
        results = []
        barrier = threading.Barrier(n)

        def go():
            barrier.wait()
            results.append(self.refresh(token))
        threads = [threading.Thread(target=go) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results


class Sessions(SessionsCase):

    def test_list_is_the_callers_live_sessions_as_the_contract_spells_them(self):
        email, _ = self.create_user()
        phone = self.login_with(email, "CryptoPay-iOS/3.1 (iPhone; iOS 17.2)", "127.0.0.2")
        time.sleep(1.1)  # a later second: a strict order to check
        laptop = self.login_with(email, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
        r = self.api("GET", "sessions/", token=laptop["access"])
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertTrue(r.header("X-Request-Id"))
        expected = []
        for tokens, ip, agent, current in (
                (laptop, "127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", True),
                (phone, "127.0.0.2", "CryptoPay-iOS/3.1 (iPhone; iOS 17.2)", False)):
            c = claims(tokens["refresh"])
            expected.append({"id": c["jti"], "created_at": iso(c["iat"]),
                             "last_used_at": iso(c["iat"]), "ip": ip, "user_agent": agent,
                             "current": current})
        self.assertBody(r, 200, expected)
        # Another account sees only its own.
        other_email, _ = self.create_user()
        other = self.login_with(other_email)
        self.assertEqual([s["id"] for s in self.sessions(other["access"])],
                         [claims(other["refresh"])["jti"]])

    def test_a_refresh_moves_the_session_on(self):
        email, _ = self.create_user()
        first = self.login_with(email, "App/1.0", "127.0.0.2")
        time.sleep(1.1)
        agent = "App/1.1 " + "é" * 300
        r = self.refresh(first["refresh"], agent.encode("utf-8"), "127.0.0.3")
        self.assertEqual(r.status, 200, r)
        listed = self.sessions(r.json()["access"])
        self.assertEqual(len(listed), 1)
        s = listed[0]
        self.assertEqual(s["id"], claims(first["refresh"])["jti"])  # the same session
        self.assertEqual(s["created_at"], iso(claims(first["refresh"])["iat"]))
        self.assertEqual(s["last_used_at"], iso(claims(r.json()["refresh"])["iat"]))
        self.assertNotEqual(s["last_used_at"], s["created_at"])
        self.assertEqual(s["ip"], "127.0.0.3")
        self.assertEqual(s["user_agent"], agent[:256])  # characters, not bytes
        self.assertTrue(s["current"])

    def test_no_user_agent_is_an_empty_string_and_latin1_is_read_as_such(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)  # http.client sends no User-Agent of its own
        self.assertEqual(self.sessions(tokens["access"])[0]["user_agent"], "")
        # A str header goes out as Latin-1 bytes (not UTF-8): read as Latin-1.
        r = self.refresh(tokens["refresh"], "Café/1.0")
        self.assertEqual(self.sessions(r.json()["access"])[0]["user_agent"], "Café/1.0")

    def test_ending_one_session(self):
        email, _ = self.create_user()
        mine = self.login_with(email, "mine")
        lost = self.login_with(email, "lost")
        lost_id = claims(lost["refresh"])["jti"]
        r = self.api("DELETE", "sessions/%s/" % lost_id, token=mine["access"])
        self.assertEqual((r.status, r.body), (204, b""), r)
        self.assertEqual([s["id"] for s in self.sessions(mine["access"])],
                         [claims(mine["refresh"])["jti"]])
        self.assertBody(self.api("GET", "sessions/", token=lost["access"]), 401, NOT_VALID)
        self.assertBody(self.refresh(lost["refresh"]), 401, BLACKLISTED)
        # No trailing slash is the same route; an ended session is not found.
        self.assertBody(self.api("DELETE", "sessions/" + lost_id, token=mine["access"]), 404,
                        NOT_FOUND)

    def test_ending_every_other_session(self):
        email, _ = self.create_user()
        a, b, c = (self.login_with(email, name) for name in "abc")
        r = self.api("DELETE", "sessions/", token=b["access"])
        self.assertEqual((r.status, r.body), (204, b""), r)
        self.assertEqual([s["id"] for s in self.sessions(b["access"])],
                         [claims(b["refresh"])["jti"]])
        for gone in (a, c):
            self.assertBody(self.refresh(gone["refresh"]), 401, BLACKLISTED)
        self.assertEqual(self.refresh(b["refresh"]).status, 200)

    def test_not_found(self):
        email, _ = self.create_user()
        other_email, _ = self.create_user()
        mine = self.login_with(email)
        theirs = self.login_with(other_email)
        for session_id in (claims(theirs["refresh"])["jti"], "0" * 32,
                           claims(mine["access"])["jti"], "ABCDEF" + "0" * 26, "42", "x" * 33):
            with self.subTest(session_id=session_id):
                self.assertBody(self.api("DELETE", "sessions/%s/" % session_id,
                                         token=mine["access"]), 404, NOT_FOUND)
        self.assertEqual(self.refresh(theirs["refresh"]).status, 200)  # untouched

    def test_other_methods_are_405_with_allow(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)
        one = "sessions/%s/" % claims(tokens["refresh"])["jti"]
        for method, route, allow in (("POST", "sessions/", "GET, DELETE, HEAD"),
                                     ("PUT", "sessions/", "GET, DELETE, HEAD"),
                                     ("OPTIONS", "sessions/", "GET, DELETE, HEAD"),
                                     ("GET", one, "DELETE"),
                                     ("POST", one, "DELETE"),
                                     ("PATCH", one, "DELETE")):
            with self.subTest(method=method, route=route):
                r = self.api(method, route, token=tokens["access"])
                self.assertBody(r, 405, {"detail": 'Method "%s" not allowed.' % method})
                self.assertEqual(r.header("Allow"), allow)
        head = self.api("HEAD", "sessions/", token=tokens["access"])
        self.assertEqual((head.status, head.body), (200, b""))

    def test_401_without_a_token_whatever_the_method(self):
        one = "sessions/%s/" % ("a" * 32)
        for method, route in (("GET", "sessions/"), ("DELETE", "sessions/"),
                              ("POST", "sessions/"), ("DELETE", one), ("GET", one)):
            with self.subTest(method=method, route=route):
                r = self.api(method, route)
                self.assertBody(r, 401, NO_CREDENTIALS)
                self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="api"')
        self.assertBody(self.api("GET", "sessions/", token="garbage"), 401, NOT_VALID)

    def test_limit_and_offset(self):
        email, _ = self.create_user()
        first = self.login_with(email, "first")
        time.sleep(1.1)
        second = self.login_with(email, "second")
        r = self.api("GET", "sessions/?limit=1", token=first["access"])
        page = r.json()
        base = "http://127.0.0.1:%d/api/v1/auth/sessions/" % self.service.port
        self.assertEqual(list(page), ["count", "next", "previous", "results"])
        self.assertEqual((page["count"], page["next"], page["previous"]),
                         (2, base + "?limit=1&offset=1", None))
        self.assertEqual([s["id"] for s in page["results"]], [claims(second["refresh"])["jti"]])
        page = self.sessions(first["access"], "?limit=1&offset=1")
        self.assertEqual((page["count"], page["next"], page["previous"]),
                         (2, None, base + "?limit=1"))
        self.assertEqual(page["results"][0]["id"], claims(first["refresh"])["jti"])
        self.assertTrue(page["results"][0]["current"])

    def test_without_grace_one_of_concurrent_refreshes_wins(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)
        results = self.concurrent_refreshes(tokens["refresh"])
        winners = [r for r in results if r.status == 200]
        self.assertEqual(len(winners), 1, results)
        for r in results:
            if r.status != 200:
                self.assertBody(r, 401, BLACKLISTED)
        # The rest were reuse: the session is gone, the winner's tokens with it.
        self.assertBody(self.api("GET", "sessions/", token=winners[0].json()["access"]), 401,
                        NOT_VALID)


class ReuseGrace(SessionsCase):
    service_env = {"AUTH_REFRESH_REUSE_GRACE": "10"}

    def test_concurrent_refreshes_of_one_token_all_succeed_in_one_session(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)
        session_id = claims(tokens["refresh"])["jti"]
        results = self.concurrent_refreshes(tokens["refresh"])
        self.assertEqual([r.status for r in results], [200] * len(results), results)
        pairs = [r.json() for r in results]
        self.assertEqual(len({p["refresh"] for p in pairs}), len(pairs))
        for pair in pairs:
            self.assertEqual(list(pair), ["access", "refresh"])
            listed = self.sessions(pair["access"])
            self.assertEqual([(s["id"], s["current"]) for s in listed], [(session_id, True)])
        # Every new refresh token works (each once: rotation goes on as usual).
        for pair in pairs:
            self.assertEqual(self.refresh(pair["refresh"]).status, 200)

    def test_a_logged_out_token_gets_no_grace(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)
        self.assertBody(self.api("POST", "token/blacklist/", {"refresh": tokens["refresh"]}), 200,
                        {})
        self.assertBody(self.refresh(tokens["refresh"]), 401, BLACKLISTED)

    def test_a_rotated_token_of_an_ended_session_gets_no_grace(self):
        email, _ = self.create_user()
        tokens = self.login_with(email)
        r = self.refresh(tokens["refresh"])
        self.assertEqual(r.status, 200)
        self.assertEqual(self.api("DELETE", "sessions/%s/" % claims(tokens["refresh"])["jti"],
                                  token=r.json()["access"]).status, 204)
        self.assertBody(self.refresh(tokens["refresh"]), 401, BLACKLISTED)


if __name__ == "__main__":
    unittest.main()
