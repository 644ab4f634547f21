"""Djoser user endpoints (API.md §7) through nginx, with a normal user and a
staff user made with the command line."""

import json
import unittest
import urllib.parse

import harness

NOT_FOUND = {"detail": "Not found."}
FIELDS = ["id", "email", "first_name", "last_name", "terms_accepted", "email_verified",
          "has_pin", "is_active", "is_staff", "date_joined", "last_login"]


class Users(harness.ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff_email = "admin@example.com"
        r = cls.service.cli("createsuperuser", "--email", cls.staff_email, stdin="Adm1n-Pass!\n")
        assert r.returncode == 0, r.stderr
        cls.staff_password = "Adm1n-Pass!"

    def setUp(self):
        self.email, self.password = self.create_user()
        self.token = self.login(self.email)["access"]
        self.me = self.api("GET", "users/me/", token=self.token).json()

    def staff_token(self):
        return self.login(self.staff_email, self.staff_password)["access"]

    def test_me_representation(self):
        r = self.api("GET", "users/me/", token=self.token)
        self.assertEqual(r.status, 200, r)
        me = r.json()
        self.assertEqual(list(me), FIELDS)
        self.assertEqual(me["email"], self.email)
        self.assertEqual((me["terms_accepted"], me["email_verified"], me["has_pin"], me["is_active"],
                          me["is_staff"]), (True, True, False, True, False))
        self.assertIsInstance(me["id"], int)
        self.assertRegex(me["date_joined"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(me["last_login"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.api("GET", "users/me", token=self.token).body, r.body)
        self.assertEqual(self.api("GET", "users/%d/" % me["id"], token=self.token).body, r.body)

    def test_has_pin_follows_the_pin(self):
        self.api("POST", "set-pin/", {"pin": "1234", "repeat_pin": "1234"}, token=self.token)
        self.assertTrue(self.api("GET", "users/me/", token=self.token).json()["has_pin"])

    def test_needs_a_token_before_anything(self):
        for method, route in (("GET", "users/"), ("GET", "users/me/"), ("PATCH", "users/me/"),
                              ("POST", "users/me/"), ("GET", "users/1/"), ("POST", "users/1/"),
                              ("POST", "users/set_password/"), ("GET", "users/set_password/")):
            r = self.api(method, route, {} if method != "GET" else None)
            self.assertBody(r, 401, {"detail": "Authentication credentials were not provided."})

    def test_other_methods_are_405(self):
        for route in ("users/me/", "users/%d/" % self.me["id"]):
            for method in ("POST", "OPTIONS"):
                r = self.api(method, route, token=self.token)
                self.assertBody(r, 405, {"detail": 'Method "%s" not allowed.' % method})
                self.assertEqual(r.header("Allow"), "GET, PUT, PATCH, DELETE, HEAD")
        r = self.api("DELETE", "users/", token=self.token)
        self.assertBody(r, 405, {"detail": 'Method "DELETE" not allowed.'})
        self.assertEqual(r.header("Allow"), "GET, POST, HEAD")
        r = self.api("GET", "users/set_password/", token=self.token)
        self.assertEqual((r.status, r.header("Allow")), (405, "POST"))

    def test_list_for_a_normal_user_holds_only_itself(self):
        r = self.api("GET", "users/", token=self.token)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), [self.me])
        r = self.api("GET", "users/?limit=5", token=self.token)
        self.assertEqual(r.json(), {"count": 1, "next": None, "previous": None, "results": [self.me]})

    def test_another_users_id_is_404_for_a_normal_user(self):
        other_email, _ = self.create_user()
        other = self.api("GET", "users/me/", token=self.login(other_email)["access"]).json()
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            r = self.api(method, "users/%d/" % other["id"], {"current_password": self.password},
                         token=self.token)
            self.assertBody(r, 404, NOT_FOUND)
        self.assertBody(self.api("GET", "users/999999/", token=self.token), 404, NOT_FOUND)
        self.assertBody(self.api("GET", "users/abc/", token=self.token), 404, NOT_FOUND)

    def test_staff_sees_and_edits_everyone(self):
        token = self.staff_token()
        r = self.api("GET", "users/", token=token)
        self.assertEqual(r.status, 200)
        users = r.json()
        self.assertIsInstance(users, list)
        ids = [u["id"] for u in users]
        self.assertEqual(ids, sorted(ids))
        self.assertIn(self.me["id"], ids)
        staff = [u for u in users if u["email"] == self.staff_email][0]
        self.assertTrue(staff["is_staff"])
        r = self.api("PATCH", "users/%d/" % self.me["id"], {"first_name": "Set by staff"}, token=token)
        self.assertEqual(r.json()["first_name"], "Set by staff")
        self.assertBody(self.api("GET", "users/999999/", token=token), 404, NOT_FOUND)

    def test_put_and_patch_write_only_the_names(self):
        r = self.api("PATCH", "users/me/", {"first_name": "Ani", "email": "x@evil.com",
                                             "is_staff": True, "is_active": False, "id": 1,
                                             "email_verified": False}, token=self.token)
        self.assertEqual(r.status, 200, r)
        me = r.json()
        self.assertEqual((me["first_name"], me["last_name"], me["email"], me["is_staff"],
                          me["is_active"], me["id"]),
                         ("Ani", "", self.email, False, True, self.me["id"]))
        r = self.api("PUT", "users/me/", {"first_name": "Gor", "last_name": "Grigoryan"},
                     token=self.token)
        self.assertEqual((r.json()["first_name"], r.json()["last_name"]), ("Gor", "Grigoryan"))
        r = self.api("PATCH", "users/me/", {"last_name": ""}, token=self.token)
        self.assertEqual(r.json()["last_name"], "")
        r = self.api("PATCH", "users/me/", {"first_name": "x" * 151, "last_name": None},
                     token=self.token)
        self.assertBody(r, 400, {"first_name": ["Ensure this field has no more than 150 characters."],
                                 "last_name": ["This field may not be null."]})
        r = self.api("PATCH", "users/me/", {"first_name": "Ā" * 150}, token=self.token)
        self.assertEqual(r.status, 200, r)
        r = self.api("PATCH", "users/me/", {"first_name": ["a"]}, token=self.token)
        self.assertBody(r, 400, {"first_name": ["Not a valid string."]})
        # A control character comes back escaped as Python's json writes it.
        r = self.api("PATCH", "users/me/", {"first_name": "a\x1fb"}, token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'"first_name":"a\\u001fb"', r.body)
        # U+2028/U+2029 too: DRF's renderer escapes them after json.dumps.
        r = self.api("PATCH", "users/me/", {"first_name": "a\u2028b\u2029c"}, token=self.token)
        self.assertIn(b'"first_name":"a\\u2028b\\u2029c"', r.body)

    def test_delete_needs_the_current_password_then_the_email_is_free(self):
        r = self.api("DELETE", "users/me/", {}, token=self.token)
        self.assertBody(r, 400, {"current_password": ["This field is required."]})
        r = self.api("DELETE", "users/me/", {"current_password": "Wrong123@"}, token=self.token)
        self.assertBody(r, 400, {"current_password": ["Invalid password."]})
        refresh = self.login(self.email)["refresh"]
        r = self.api("DELETE", "users/me/", {"current_password": self.password}, token=self.token)
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertBody(self.api("GET", "users/me/", token=self.token), 401,
                        {"detail": "Given token not valid for any token type", "code": "token_not_valid"})
        self.assertBody(self.api("POST", "token/refresh/", {"refresh": refresh}), 401,
                        {"detail": "Token is invalid or expired", "code": "token_not_valid"})
        with self.service.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM codes WHERE user_id = ?",
                                        (self.me["id"],)).fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT count(*) FROM tokens WHERE user_id = ?",
                                        (self.me["id"],)).fetchone()[0], 0)
        # The address may register again at once (its send history is gone).
        r = self.api("POST", "users/", {"email": self.email, "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json()["id"], self.me["id"])

    def test_staff_deletes_another_user_with_its_own_password(self):
        other_email, _ = self.create_user()
        other = self.api("GET", "users/me/", token=self.login(other_email)["access"]).json()
        token = self.staff_token()
        r = self.api("DELETE", "users/%d/" % other["id"], {"current_password": self.password},
                     token=token)
        self.assertBody(r, 400, {"current_password": ["Invalid password."]})
        r = self.api("DELETE", "users/%d/" % other["id"], {"current_password": self.staff_password},
                     token=token)
        self.assertEqual(r.status, 204)
        self.assertBody(self.api("GET", "users/%d/" % other["id"], token=token), 404, NOT_FOUND)

    def test_set_password(self):
        old = self.login(self.email)
        r = self.api("POST", "users/set_password/",
                     {"current_password": "Wrong123@", "new_password": "short",
                      "re_new_password": "other"}, token=self.token)
        self.assertBody(r, 400, {
            "current_password": ["Invalid password."],
            "new_password": ["This password is too short. It must contain at least 8 characters."],
            "non_field_errors": ["The two password fields didn't match."]})
        r = self.api("POST", "users/set_password/", {}, token=self.token)
        self.assertBody(r, 400, {"current_password": ["This field is required."],
                                 "new_password": ["This field is required."],
                                 "re_new_password": ["This field is required."]})
        r = self.api("POST", "users/set_password/",
                     {"current_password": self.password, "new_password": self.email,
                      "re_new_password": self.email}, token=self.token)
        self.assertBody(r, 400, {"new_password": ["The password is too similar to the email."]})
        before = self.sink.count(self.email)
        r = self.api("POST", "users/set_password/",
                     {"current_password": self.password, "new_password": "Fresh-Pass-9",
                      "re_new_password": "Fresh-Pass-9"}, token=self.token)
        self.assertEqual((r.status, r.body), (204, b""))
        # Old password and every older token fail; the new password works.
        self.assertBody(self.api("POST", "token/obtain/", {"email": self.email,
                                                          "password": self.password}),
                        401, {"detail": "No active account found with the given credentials"})
        for token in (self.token, old["access"]):
            self.assertBody(self.api("GET", "users/me/", token=token), 401,
                            {"detail": "Given token not valid for any token type",
                             "code": "token_not_valid"})
        self.assertBody(self.api("POST", "token/refresh/", {"refresh": old["refresh"]}), 401,
                        {"detail": "Token is blacklisted", "code": "token_not_valid"})
        fresh = self.login(self.email, "Fresh-Pass-9")
        self.assertEqual(self.api("GET", "users/me/", token=fresh["access"]).status, 200)
        notice = self.sink.wait_for(self.email, before + 1)
        self.assertEqual(notice["Subject"], "Your password was changed")


class Pagination(harness.ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.service.cli("createsuperuser", "--email", "boss@example.com", stdin="Adm1n-Pass!\n")
        assert r.returncode == 0, r.stderr

    def test_envelope_and_absolute_links(self):
        for _ in range(4):
            self.create_user()
        token = self.login("boss@example.com", "Adm1n-Pass!")["access"]
        everyone = self.api("GET", "users/", token=token).json()
        total = len(everyone)
        self.assertGreaterEqual(total, 5)
        host = "127.0.0.1:%d" % self.service.port
        base = "http://%s/api/v1/auth/users/" % host

        page = self.api("GET", "users/?limit=2", token=token, headers={"Host": host}).json()
        self.assertEqual(list(page), ["count", "next", "previous", "results"])
        self.assertEqual(page["count"], total)
        self.assertEqual(page["next"], base + "?limit=2&offset=2")
        self.assertIsNone(page["previous"])
        self.assertEqual(page["results"], everyone[:2])

        page = self.api("GET", "users/?offset=2&limit=2", token=token, headers={"Host": host}).json()
        self.assertEqual(page["results"], everyone[2:4])
        self.assertEqual(page["previous"], base + "?limit=2")
        page = self.api("GET", "users/?limit=2&offset=3&x=a+b", token=token,
                        headers={"Host": host}).json()
        self.assertEqual(page["previous"], base + "?limit=2&offset=1&x=a+b")

        last = self.api("GET", "users/?limit=2&offset=%d" % (total - 1), token=token).json()
        self.assertIsNone(last["next"])
        self.assertEqual(last["results"], everyone[-1:])

        # Without the trailing slash the links keep the path as requested. A
        # Host that does not name this machine is the client's invention: the
        # links never carry it (no AUTH_PUBLIC_URL, no server_name: localhost).
        page = self.api("GET", "users?limit=1", token=token, headers={"Host": "evil.example"}).json()
        self.assertEqual(page["next"], "http://localhost/api/v1/auth/users?limit=1&offset=1")

    def test_invalid_limits(self):
        token = self.login("boss@example.com", "Adm1n-Pass!")["access"]
        everyone = self.api("GET", "users/", token=token).json()
        for query in ("?offset=1", "?limit=0", "?limit=-1", "?limit=abc", "?limit="):
            r = self.api("GET", "users/" + query, token=token)
            self.assertEqual(r.json(), everyone, query)
        page = self.api("GET", "users/?limit=5000", token=token).json()
        self.assertEqual(len(page["results"]), min(1000, len(everyone)))


if __name__ == "__main__":
    unittest.main()
