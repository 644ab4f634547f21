"""JWTs (API.md §4) through nginx: simplejwt's format, obtain/verify/refresh/
blacklist, rotation and reuse detection, expiry, tampering, login limits."""

import json
import re
import threading
import time
import unittest

import harness

INVALID = {"detail": "Token is invalid or expired", "code": "token_not_valid"}
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
NO_ACCOUNT = {"detail": "No active account found with the given credentials"}


class Tokens(harness.ServiceTestCase):

    def verify(self, token):
        return self.api("POST", "token/verify/", {"token": token})

    def refresh(self, token):
        return self.api("POST", "token/refresh/", {"refresh": token})

    def test_tokens_have_simplejwt_shape(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        with self.service.db() as db:
            user_id = db.execute("SELECT id FROM users WHERE email_key = ?",
                                 (email.lower(),)).fetchone()[0]
        for kind, ttl in (("access", 3000), ("refresh", 86400)):
            header, payload, signature = harness.jwt_parts(tokens[kind])
            self.assertEqual(header, b'{"alg":"HS256","typ":"JWT"}')
            self.assertTrue(tokens[kind].startswith("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."))
            claims = json.loads(payload)
            self.assertEqual(list(claims), ["token_type", "exp", "iat", "jti", "user_id"])
            self.assertEqual(payload, json.dumps(claims, separators=(",", ":")).encode())
            self.assertEqual(claims["token_type"], kind)
            self.assertEqual(claims["exp"] - claims["iat"], ttl)
            self.assertLessEqual(abs(claims["iat"] - time.time()), 5)
            self.assertRegex(claims["jti"], r"^[0-9a-f]{32}$")
            self.assertEqual(claims["user_id"], user_id)
            # Signed with the server's key, exactly as simplejwt signs.
            self.assertEqual(harness.forge_jwt(claims), tokens[kind])

    def test_obtain_updates_last_login(self):
        email, _ = self.create_user()
        with self.service.db() as db:
            before = db.execute("SELECT last_login FROM users WHERE email_key = ?",
                                (email.lower(),)).fetchone()[0]
        self.assertIsNone(before)
        self.login(email)
        with self.service.db() as db:
            after = db.execute("SELECT last_login FROM users WHERE email_key = ?",
                               (email.lower(),)).fetchone()[0]
        self.assertLessEqual(abs(after - time.time()), 5)

    def test_obtain_refuses_bad_credentials_alike(self):
        email, _ = self.create_user()
        unfinished = self.unique_email()
        self.register(unfinished)
        inactive, _ = self.create_user()
        self.assertEqual(self.service.cli("users", "deactivate", inactive).returncode, 0)
        r = self.api("POST", "token/obtain/", {"email": email, "password": "Wrong123@"})
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="api"')
        r = self.verify("garbage")
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="api"')
        for who, password in ((email, "Wrong123@"), (self.unique_email("ghost"), "Gago123@"),
                              (unfinished, "Gago123@"), (inactive, "Gago123@"),
                              (email, "Gago123@ "), ("not an email", "x")):
            r = self.api("POST", "token/obtain/", {"email": who, "password": password})
            self.assertBody(r, 401, NO_ACCOUNT)
        self.assertBody(self.api("POST", "token/obtain/", {"email": email}), 400,
                        {"password": ["This field is required."]})

    def test_email_lookup_ignores_case(self):
        email, _ = self.create_user()
        self.login(email.upper())

    def test_verify_accepts_access_and_refresh(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        self.assertBody(self.verify(tokens["access"]), 200, {})
        self.assertBody(self.verify(tokens["refresh"]), 200, {})

    def test_tampered_tokens_are_invalid(self):
        email, _ = self.create_user()
        access = self.login(email)["access"]
        header, payload, signature = access.split(".")
        flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
        claims = json.loads(harness.b64url_decode(payload))
        none_header = harness.b64url(b'{"alg":"none","typ":"JWT"}')
        cases = [
            header + "." + payload + "." + flipped,
            none_header + "." + payload + ".",
            none_header + "." + payload + "." + signature,
            harness.forge_jwt(claims, header={"alg": "HS512", "typ": "JWT"}),
            # RFC 7515: an extension marked critical that we do not know.
            harness.forge_jwt(claims, header={"alg": "HS256", "typ": "JWT", "crit": ["exp"]}),
            harness.forge_jwt(claims, key="some-other-key-entirely"),
            header + "." + harness.b64url(json.dumps(dict(claims, user_id=claims["user_id"] + 1))
                                          .encode()) + "." + signature,
            "not.a.token", "abc", "", "a.b", "a.b.c.d", access + "x",
        ]
        for token in cases:
            r = self.verify(token)
            if token == "":
                self.assertBody(r, 400, {"token": ["This field may not be blank."]})
            else:
                self.assertBody(r, 401, INVALID)
        # The same claims under a header with a harmless extra field are fine.
        self.assertBody(self.verify(harness.forge_jwt(claims, header={"alg": "HS256", "kid": "1"})),
                        200, {})

    def test_well_signed_token_without_a_record_is_invalid(self):
        email, _ = self.create_user()
        claims = json.loads(harness.jwt_parts(self.login(email)["access"])[1])
        claims["jti"] = "0" * 32
        self.assertBody(self.verify(harness.forge_jwt(claims)), 401, INVALID)

    def test_missing_or_mistyped_claims_are_invalid(self):
        email, _ = self.create_user()
        claims = json.loads(harness.jwt_parts(self.login(email)["access"])[1])
        for name in ("token_type", "exp", "iat", "jti", "user_id"):
            c = dict(claims)
            del c[name]
            self.assertBody(self.verify(harness.forge_jwt(c)), 401, INVALID)
        self.assertBody(self.verify(harness.forge_jwt(dict(claims, user_id=str(claims["user_id"])))),
                        401, INVALID)
        self.assertBody(self.verify(harness.forge_jwt(dict(claims, exp=int(time.time()) - 1))),
                        401, INVALID)

    def test_refresh_rotates(self):
        email, _ = self.create_user()
        first = self.login(email)
        r = self.refresh(first["refresh"])
        self.assertEqual(r.status, 200, r)
        second = r.json()
        self.assertNotEqual(second["refresh"], first["refresh"])
        self.assertBody(self.verify(first["refresh"]), 401, INVALID)  # rotated = revoked
        claims = json.loads(harness.jwt_parts(second["access"])[1])
        self.assertEqual(claims["exp"] - claims["iat"], 3000)

    def test_reuse_of_a_rotated_token_revokes_the_family(self):
        email, _ = self.create_user()
        first = self.login(email)
        other_login = self.login(email)
        second = self.refresh(first["refresh"]).json()
        third = self.refresh(second["refresh"]).json()
        self.assertBody(self.refresh(first["refresh"]), 401, BLACKLISTED)
        for token in (first["access"], second["access"], second["refresh"], third["access"],
                      third["refresh"]):
            self.assertBody(self.verify(token), 401, INVALID)
        self.assertBody(self.refresh(third["refresh"]), 401, BLACKLISTED)
        # Another login of the same user is another family: untouched.
        self.assertBody(self.verify(other_login["access"]), 200, {})
        self.assertEqual(self.refresh(other_login["refresh"]).status, 200)

    def test_concurrent_refreshes_have_one_winner(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        results = []
        barrier = threading.Barrier(8)

        def go():
            barrier.wait()
            results.append(self.refresh(tokens["refresh"]))
        threads = [threading.Thread(target=go) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [r for r in results if r.status == 200]
        self.assertEqual(len(winners), 1, results)
        for r in results:
            if r.status != 200:
                self.assertBody(r, 401, BLACKLISTED)
        # The losers counted as reuse: the winner's new tokens are revoked too.
        self.assertBody(self.verify(winners[0].json()["access"]), 401, INVALID)
        self.assertBody(self.verify(winners[0].json()["refresh"]), 401, INVALID)

    def test_access_token_is_not_a_refresh_token(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        self.assertBody(self.refresh(tokens["access"]), 401, INVALID)
        self.assertBody(self.api("POST", "token/blacklist/", {"refresh": tokens["access"]}), 401,
                        INVALID)
        self.assertBody(self.refresh("garbage"), 401, INVALID)
        self.assertBody(self.api("POST", "token/refresh/", {}), 400,
                        {"refresh": ["This field is required."]})

    def test_blacklist(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        r = self.api("POST", "token/blacklist/", {"refresh": tokens["refresh"]})
        self.assertBody(r, 200, {})
        self.assertBody(self.api("POST", "token/blacklist/", {"refresh": tokens["refresh"]}), 401,
                        BLACKLISTED)
        self.assertBody(self.refresh(tokens["refresh"]), 401, BLACKLISTED)
        self.assertBody(self.verify(tokens["refresh"]), 401, INVALID)

    def test_tokens_of_an_inactive_user_are_refused(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        self.assertEqual(self.service.cli("users", "deactivate", email).returncode, 0)
        self.assertBody(self.verify(tokens["access"]), 401, INVALID)
        self.assertBody(self.refresh(tokens["refresh"]), 401, INVALID)
        self.assertBody(self.api("POST", "token/blacklist/", {"refresh": tokens["refresh"]}), 401,
                        INVALID)

    def test_rehash_on_login_verifies_a_django_hash(self):
        # Made by Django 3.2 for "Gago123@" at 1000 iterations; the service runs at 1000 here,
        # so this is the import path: a Django hash verifies as is.
        email, _ = self.create_user()
        django_hash = "pbkdf2_sha256$1000$Xx7Qm2Lp9Rt4Vb8Nc1Dz5K$mNiIQVFLR0HYbvozRKAopXjQS5kKhIzmFPw8ib0XnHY="
        with self.service.db() as db:
            db.execute("UPDATE users SET password = ? WHERE email_key = ?", (django_hash, email.lower()))
        self.login(email, "Gago123@")


class Rehash(harness.ServiceTestCase):
    service_env = {"AUTH_PBKDF2_ITERATIONS": "1500"}

    def test_a_lower_cost_hash_is_upgraded_at_login(self):
        email, _ = self.create_user()
        django_hash = "pbkdf2_sha256$1000$Xx7Qm2Lp9Rt4Vb8Nc1Dz5K$mNiIQVFLR0HYbvozRKAopXjQS5kKhIzmFPw8ib0XnHY="
        with self.service.db() as db:
            db.execute("UPDATE users SET password = ? WHERE email_key = ?", (django_hash, email.lower()))
        self.login(email, "Gago123@")
        with self.service.db() as db:
            stored = db.execute("SELECT password FROM users WHERE email_key = ?",
                                (email.lower(),)).fetchone()[0]
        self.assertRegex(stored, r"^pbkdf2_sha256\$1500\$[A-Za-z0-9]{22}\$")
        self.login(email, "Gago123@")


class Expiry(harness.ServiceTestCase):
    service_env = {"AUTH_ACCESS_TTL": "2", "AUTH_REFRESH_TTL": "3"}

    def test_expired_tokens_are_invalid(self):
        email, _ = self.create_user()
        tokens = self.login(email)
        self.assertBody(self.api("POST", "token/verify/", {"token": tokens["access"]}), 200, {})
        time.sleep(3.2)
        self.assertBody(self.api("POST", "token/verify/", {"token": tokens["access"]}), 401, INVALID)
        self.assertBody(self.api("POST", "token/verify/", {"token": tokens["refresh"]}), 401, INVALID)
        self.assertBody(self.api("POST", "token/refresh/", {"refresh": tokens["refresh"]}), 401,
                        INVALID)


class LoginLimit(harness.ServiceTestCase):

    def test_ten_failures_in_fifteen_minutes_then_429(self):
        email, password = self.create_user()
        for _ in range(10):
            self.assertBody(self.api("POST", "token/obtain/",
                                     {"email": email, "password": "Wrong123@"}), 401, NO_ACCOUNT)
        r = self.api("POST", "token/obtain/", {"email": email.upper(), "password": password})
        self.assertEqual(r.status, 429, r)
        retry = int(r.header("Retry-After"))
        self.assertTrue(850 <= retry <= 900, retry)
        # (The window's end, and the limit per address against the overall
        # one, are shown with a moved clock in tests/unit/api/security_test.cc.)

    def test_a_stranger_cannot_lock_the_owner_out(self):
        # §4: ten failures lock the address they came from (here 127.0.0.3),
        # not the owner's (127.0.0.1).
        email, password = self.create_user()
        for _ in range(10):
            self.assertBody(self.api("POST", "token/obtain/",
                                     {"email": email, "password": "Wrong123@"}, source="127.0.0.3"),
                            401, NO_ACCOUNT)
        r = self.api("POST", "token/obtain/", {"email": email, "password": password},
                     source="127.0.0.3")
        self.assertEqual(r.status, 429, r)
        self.login(email, password)

    def test_concurrent_guesses_cannot_pass_the_limit(self):
        email, password = self.create_user()
        results = []
        barrier = threading.Barrier(16)

        def guess():
            barrier.wait()
            results.append(self.api("POST", "token/obtain/",
                                    {"email": email, "password": "Wrong123@"}).status)
        threads = [threading.Thread(target=guess) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results.count(401), 10, results)
        self.assertEqual(results.count(429), 6, results)

    def test_successes_do_not_count(self):
        email, password = self.create_user()
        for _ in range(12):
            self.login(email, password)


if __name__ == "__main__":
    unittest.main()
