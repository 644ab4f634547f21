"""Changing the account's email (API.md §6) through nginx with the SMTP sink."""

import time
import unittest

import harness


class EmailChange(harness.ServiceTestCase):

    def setUp(self):
        self.email, self.password = self.create_user()
        self.token = self.login(self.email)["access"]

    def post(self, route, data=None):
        return self.api("POST", route, data, token=self.token)

    def request_change(self, new_email):
        before = self.sink.count(new_email)
        r = self.post("reset-email-request/", {"new_email": new_email, "password": self.password})
        self.assertBody(r, 200, {"detail": "A confirmation code has been sent to the new email address."})
        msg = self.sink.wait_for(new_email, before + 1)
        self.assertEqual(msg["Subject"], "Confirm your new email address")
        return harness.SmtpSink.code_in(msg)

    def test_change_end_to_end(self):
        new_email = self.unique_email("New")
        code = self.request_change(new_email)
        old_before = self.sink.count(self.email)
        r = self.post("reset-email-verify/", {"code": code})
        self.assertEqual(r.status, 200, r)
        user = r.json()
        self.assertEqual(user["email"], new_email)
        self.assertEqual(list(user), ["id", "email", "first_name", "last_name", "terms_accepted",
                                      "email_verified", "has_pin", "is_active", "is_staff",
                                      "date_joined", "last_login"])
        notice = self.sink.wait_for(self.email, old_before + 1)
        self.assertEqual(notice["Subject"], "Your email address was changed")
        self.assertIn(new_email, harness.SmtpSink.body(notice))
        # The new address logs in; the old one is free to register again at once.
        self.login(new_email.upper(), self.password)
        self.assertBody(self.api("POST", "token/obtain/", {"email": self.email, "password": self.password}),
                        401, {"detail": "No active account found with the given credentials"})
        self.register(self.email)
        # The code is single-use.
        self.assertBody(self.post("reset-email-verify/", {"code": code}), 400,
                        {"code": ["Invalid or expired code."]})

    def test_a_recovery_code_sent_before_the_change_is_dead(self):
        # Whoever still reads the old mailbox must not take the account over
        # with a recovery code that reached it before the change.
        before = self.sink.count(self.email)
        self.api("POST", "recovery-request/", {"email": self.email})
        recovery = harness.SmtpSink.code_in(self.sink.wait_for(self.email, before + 1))
        new_email = self.unique_email("Moved")
        self.assertEqual(self.post("reset-email-verify/",
                                   {"code": self.request_change(new_email)}).status, 200)
        invalid = {"code": ["Invalid or expired code."]}
        self.assertBody(self.api("POST", "recovery-reset-password/", {
            "email": new_email, "code": recovery, "password": "Taken123@", "password2": "Taken123@"}),
            400, invalid)
        self.assertBody(self.api("POST", "verify-code/", {
            "email": new_email, "code": recovery, "purpose": "password_recovery"}), 400, invalid)
        self.login(new_email, self.password)

    def test_wrong_password_and_taken_address(self):
        other, _ = self.create_user()
        r = self.post("reset-email-request/", {"new_email": other.upper(), "password": "Nope123@"})
        self.assertBody(r, 400, {"new_email": ["user with this email already exists."],
                                 "password": ["Invalid password."]})
        r = self.post("reset-email-request/", {"new_email": self.email, "password": self.password})
        self.assertBody(r, 400, {"new_email": ["user with this email already exists."]})
        r = self.post("reset-email-request/", {"new_email": self.unique_email(), "password": "Nope123@"})
        self.assertBody(r, 400, {"password": ["Invalid password."]})
        r = self.post("reset-email-request/", {"new_email": "bad", "password": self.password})
        self.assertBody(r, 400, {"new_email": ["Enter a valid email address."]})
        r = self.post("reset-email-request/", {})
        self.assertBody(r, 400, {"new_email": ["This field is required."],
                                 "password": ["This field is required."]})

    def test_address_taken_meanwhile(self):
        new_email = self.unique_email()
        code = self.request_change(new_email)
        self.register(new_email)  # someone else takes it before the code comes back
        self.assertBody(self.post("reset-email-verify/", {"code": code}), 400,
                        {"new_email": ["user with this email already exists."]})
        with self.service.db() as db:
            row = db.execute("SELECT email FROM users WHERE email_key = ?",
                             (self.email.lower(),)).fetchone()
        self.assertIsNotNone(row)

    def test_wrong_codes(self):
        # (Expiry, with a moved clock: unit/api/limits_test.cc
        # EmailChangeCodeExpiresAndTheOldAddressIsReleased.)
        new_email = self.unique_email()
        code = self.request_change(new_email)
        wrong = "%06d" % ((int(code) + 1) % 900000 + 100000)
        self.assertBody(self.post("reset-email-verify/", {"code": wrong}), 400,
                        {"code": ["Invalid or expired code."]})
        self.assertEqual(self.post("reset-email-verify/", {"code": code}).status, 200)


if __name__ == "__main__":
    unittest.main()
