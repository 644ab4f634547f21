"""Account recovery (API.md §5) through nginx with the SMTP sink, including the
seed's Account Recovery requests as written."""

import time
import unittest

import harness

SENT = {"detail": "If an account with this email exists, a recovery code has been sent."}
INVALID_CODE = {"code": ["Invalid or expired code."]}


class Recovery(harness.ServiceTestCase):

    def request_code(self, email):
        before = self.sink.count(email)
        self.assertBody(self.api("POST", "recovery-request/", {"email": email}), 200, SENT)
        return self.sink.code_for(email, count=before + 1)

    def reset(self, email, code, password="Gago123@@", password2=None):
        return self.api("POST", "recovery-reset-password/",
                        {"email": email, "code": code, "password": password,
                         "password2": password if password2 is None else password2})

    def test_seed_account_recovery_as_written(self):
        email = "grigoryan021201@gmail.com"
        self.create_user(email, "Gago123@")
        old = self.login(email, "Gago123@")
        before = self.sink.count(email)
        r = self.service.request("POST", "/api/v1/auth/recovery-request/",
                                 '{\n    "email" : "grigoryan021201@gmail.com"\n}',
                                 {"Content-Type": "application/json"})
        self.assertBody(r, 200, SENT)
        msg = self.sink.wait_for(email, before + 1)
        self.assertEqual(msg["Subject"], "Your password recovery code")
        code = harness.SmtpSink.code_in(msg)
        r = self.service.request("POST", "/api/v1/auth/verify-code/",
                                 '{\n    "email" : "grigoryan021201@gmail.com",\n'
                                 '    "code" : %s,\n    "purpose" : "password_recovery"\n}' % code,
                                 {"Content-Type": "application/json"})
        self.assertBody(r, 200, {"detail": "Code verified."})
        r = self.service.request("POST", "/api/v1/auth/recovery-reset-password/",
                                 '{\n    "email" : "grigoryan021201@gmail.com",\n'
                                 '    "code" : %s,\n    "password" : "Gago123@@",\n'
                                 '    "password2" : "Gago123@@"\n}' % code,
                                 {"Content-Type": "application/json"})
        self.assertBody(r, 200, {"detail": "Password has been reset."})
        self.login(email, "Gago123@@")
        self.assertBody(self.api("POST", "token/obtain/", {"email": email, "password": "Gago123@"}),
                        401, {"detail": "No active account found with the given credentials"})
        # Every token issued before the reset is revoked.
        self.assertBody(self.api("POST", "token/verify/", {"token": old["access"]}), 401,
                        {"detail": "Token is invalid or expired", "code": "token_not_valid"})
        self.assertBody(self.api("POST", "token/refresh/", {"refresh": old["refresh"]}), 401,
                        {"detail": "Token is blacklisted", "code": "token_not_valid"})
        # The code is used up.
        self.assertBody(self.reset(email, code, "Another123@"), 400, INVALID_CODE)
        # A notice went to the account.
        notice = self.sink.wait_for(email, before + 2)
        self.assertEqual(notice["Subject"], "Your password was changed")

    def test_unknown_and_inactive_emails_get_identical_answers_and_no_mail(self):
        email, _ = self.create_user()
        inactive, _ = self.create_user()
        self.assertEqual(self.service.cli("users", "deactivate", inactive).returncode, 0)
        unfinished = self.unique_email()
        self.register(unfinished)
        ghost = self.unique_email("ghost")
        known = self.api("POST", "recovery-request/", {"email": email})
        for other in (ghost, inactive, unfinished):
            before = self.sink.count(other)
            r = self.api("POST", "recovery-request/", {"email": other})
            self.assertEqual((r.status, r.body), (known.status, known.body))
            self.assertEqual(sorted(k for k in r.headers.keys() if k.lower() not in
                                    ("date", "x-request-id")),
                             sorted(k for k in known.headers.keys() if k.lower() not in
                                    ("date", "x-request-id")))
            time.sleep(0.3)
            self.assertEqual(self.sink.count(other), before)

    def test_send_limit_is_silent(self):
        email, _ = self.create_user()
        self.request_code(email)
        before = self.sink.count(email)
        self.assertBody(self.api("POST", "recovery-request/", {"email": email}), 200, SENT)
        time.sleep(0.5)
        self.assertEqual(self.sink.count(email), before)

    def test_validation_and_mismatch(self):
        email, _ = self.create_user()
        r = self.api("POST", "recovery-reset-password/", {"email": "bad"})
        self.assertBody(r, 400, {"email": ["Enter a valid email address."],
                                 "code": ["This field is required."],
                                 "password": ["This field is required."],
                                 "password2": ["This field is required."]})
        r = self.reset(email, "123456", "short", "other")
        self.assertBody(r, 400, {
            "password": ["This password is too short. It must contain at least 8 characters."],
            "non_field_errors": ["The two password fields didn't match."]})
        r = self.reset(email, "123456", "Gago123@@", "Gago123@@x")
        self.assertBody(r, 400, {"non_field_errors": ["The two password fields didn't match."]})

    def test_wrong_expired_and_unknown_codes(self):
        email, _ = self.create_user()
        code = self.request_code(email)
        wrong = "%06d" % ((int(code) + 1) % 900000 + 100000)
        self.assertBody(self.reset(email, wrong), 400, INVALID_CODE)
        self.assertBody(self.reset(self.unique_email("ghost"), code), 400, INVALID_CODE)
        self.login(email)  # the old password still works
        # (Expiry, with a moved clock: unit/api/limits_test.cc ACodeLivesTenMinutes.)

    def test_guesses_are_limited_across_verify_and_reset(self):
        email, _ = self.create_user()
        code = self.request_code(email)
        wrong = "%06d" % ((int(code) + 1) % 900000 + 100000)
        for i in range(5):
            route = "verify-code/" if i % 2 else "recovery-reset-password/"
            data = ({"email": email, "code": wrong, "purpose": "password_recovery"} if i % 2 else
                    {"email": email, "code": wrong, "password": "Gago123@@", "password2": "Gago123@@"})
            self.assertBody(self.api("POST", route, data), 400, INVALID_CODE)
        self.assertBody(self.reset(email, code), 400,
                        {"code": ["Too many attempts. Request a new code."]})

    def test_reset_marks_the_email_verified_and_rules_apply(self):
        email, _ = self.create_user()
        code = self.request_code(email)
        self.assertBody(self.reset(email, code, email), 400,
                        {"password": ["The password is too similar to the email."]})
        with self.service.db() as db:
            db.execute("UPDATE users SET email_verified = FALSE WHERE email_key = ?", (email.lower(),))
        self.assertBody(self.reset(email, code), 200, {"detail": "Password has been reset."})
        with self.service.db() as db:
            self.assertEqual(db.execute("SELECT email_verified FROM users WHERE email_key = ?",
                                        (email.lower(),)).fetchone()[0], 1)


if __name__ == "__main__":
    unittest.main()
