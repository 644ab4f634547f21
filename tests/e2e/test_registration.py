"""Registration and one-time codes (API.md §2, §3) through nginx, with the
codes read from a real SMTP sink; the seed's Registration and Auth requests
replayed as written."""

import json
import time
import unittest

import harness

SEED_EMAIL = "grigoryan021201@gmail.com"


class Seed(harness.ServiceTestCase):
    """seed-CryptoPayBackend.txt, Registration 1-3 and Auth 1-3, verbatim."""

    def post(self, route, raw_body):
        return self.service.request("POST", "/api/v1/auth/" + route, raw_body,
                                    {"Content-Type": "application/json"})

    def test_seed_registration_and_auth(self):
        r = self.post("users/", '{\n    "email" : "grigoryan021201@gmail.com",\n'
                                '    "terms_accepted" : true\n}')
        self.assertEqual(r.status, 201, r)
        user = r.json()
        self.assertEqual(list(user), ["id", "email", "first_name", "last_name", "terms_accepted",
                                      "email_verified", "has_pin", "is_active", "is_staff",
                                      "date_joined", "last_login"])
        self.assertEqual(user["email"], SEED_EMAIL)
        self.assertEqual((user["is_active"], user["email_verified"], user["terms_accepted"]),
                         (False, False, True))
        self.assertRegex(user["date_joined"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(user["last_login"])

        msg = self.sink.wait_for(SEED_EMAIL)
        self.assertEqual(msg["Subject"], "Confirm your email address")
        code = harness.SmtpSink.code_in(msg)
        self.assertTrue(100000 <= int(code) <= 999999)

        # The seed sends the code as a JSON number.
        r = self.post("verify-code/", '{\n    "email" : "grigoryan021201@gmail.com",\n'
                                      '    "code" : %s,\n    "purpose" : "email_verification"\n}' % code)
        self.assertBody(r, 200, {"detail": "Email verified."})

        r = self.post("public-set-password/", '{\n    "email": "grigoryan021201@gmail.com",\n'
                                              '    "password": "Gago123@",\n'
                                              '    "repeat_password": "Gago123@"\n}')
        self.assertBody(r, 200, {"detail": "Password has been set."})

        r = self.post("token/obtain/", '{\n    "email" : "grigoryan021201@gmail.com",\n'
                                       '    "password" : "Gago123@"\n}')
        self.assertEqual(r.status, 200, r)
        tokens = r.json()
        self.assertEqual(list(tokens), ["refresh", "access"])

        r = self.post("token/verify/", '{\n    "token" : "%s"\n}' % tokens["access"])
        self.assertBody(r, 200, {})

        r = self.post("token/refresh/", '{\n    "refresh": "%s"\n}' % tokens["refresh"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(list(r.json()), ["access", "refresh"])
        self.assertBody(self.post("token/verify/", '{"token": "%s"}' % r.json()["access"]), 200, {})


class Registration(harness.ServiceTestCase):

    def test_terms_must_be_accepted(self):
        for terms in (None, False, "false", "abc", 0, "0", [], "no"):
            data = {"email": self.unique_email()}
            if terms is not None:
                data["terms_accepted"] = terms
            r = self.api("POST", "users/", data)
            self.assertBody(r, 400, {"terms_accepted": ["You must accept the terms and conditions."]})

    def test_all_failing_fields_are_reported_at_once(self):
        r = self.api("POST", "users/", {"email": "nope", "terms_accepted": False})
        self.assertBody(r, 400, {"email": ["Enter a valid email address."],
                                 "terms_accepted": ["You must accept the terms and conditions."]})

    def test_email_is_case_insensitive_and_keeps_its_local_part(self):
        base = self.unique_email("Mixed")
        local, domain = base.split("@")
        r = self.api("POST", "users/", {"email": "%s@%s" % (local, domain.upper()),
                                        "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], "%s@%s" % (local, domain))
        code = self.sink.code_for("%s@%s" % (local, domain))
        r = self.api("POST", "verify-code/", {"email": base.lower(), "code": code,
                                              "purpose": "email_verification"})
        self.assertBody(r, 200, {"detail": "Email verified."})

    # (An unfinished registration gets a fresh code and the same user a minute
    # later: unit/api/limits_test.cc ACodeIsSingleUseAndANewOneKillsTheOld.)

    def test_an_account_with_a_password_cannot_register_again(self):
        email, _ = self.create_user()
        for variant in (email, email.upper(), " %s " % email):
            r = self.api("POST", "users/", {"email": variant, "terms_accepted": True})
            self.assertBody(r, 400, {"email": ["user with this email already exists."]})
        self.assertEqual(self.service.cli("users", "deactivate", email).returncode, 0)
        r = self.api("POST", "users/", {"email": email, "terms_accepted": True})
        self.assertBody(r, 400, {"email": ["user with this email already exists."]})
        # Every failing field at once (§1): the taken email beside the terms.
        r = self.api("POST", "users/", {"email": email, "terms_accepted": False})
        self.assertBody(r, 400, {"email": ["user with this email already exists."],
                                 "terms_accepted": ["You must accept the terms and conditions."]})

    def test_one_code_a_minute(self):
        email = self.unique_email()
        self.register(email)
        r = self.api("POST", "users/", {"email": email, "terms_accepted": True})
        self.assertEqual(r.status, 429, r)
        retry = int(r.header("Retry-After"))
        self.assertTrue(1 <= retry <= 60, retry)
        self.assertBody(r, 429, {"detail": "Request was throttled. Expected available in %d %s."
                                 % (retry, "second" if retry == 1 else "seconds")})
        time.sleep(0.5)
        self.assertEqual(self.sink.count(email), 1)

    def test_resend_applies_the_limit_silently(self):
        # (The window's edges, ten an hour, with a moved clock:
        # unit/api/limits_test.cc OneCodeAMinute, TenCodesAnHour.)
        email = self.unique_email()
        self.register(email)
        r = self.api("POST", "resend-code/", {"email": email, "purpose": "email_verification"})
        self.assertBody(r, 200, {"detail": "If the account exists, a new code has been sent."})
        time.sleep(0.5)
        self.assertEqual(self.sink.count(email), 1)


class Codes(harness.ServiceTestCase):

    def verify(self, email, code, purpose="email_verification"):
        return self.api("POST", "verify-code/", {"email": email, "code": code, "purpose": purpose})

    def wrong(self, code):
        return "%06d" % ((int(code) + 1) % 900000 + 100000)

    def test_code_as_string_number_and_with_whitespace(self):
        for form in (lambda c: c, lambda c: int(c), lambda c: "  %s \t" % c):
            email = self.unique_email()
            code = self.register(email)
            self.assertBody(self.verify(email, form(code)), 200, {"detail": "Email verified."})

    def test_a_code_is_single_use(self):
        email = self.unique_email()
        code = self.register(email)
        self.assertEqual(self.verify(email, code).status, 200)
        self.assertBody(self.verify(email, code), 400, {"code": ["Invalid or expired code."]})

    def test_five_wrong_guesses_burn_the_code(self):
        email = self.unique_email()
        code = self.register(email)
        for _ in range(5):
            self.assertBody(self.verify(email, self.wrong(code)), 400,
                            {"code": ["Invalid or expired code."]})
        self.assertBody(self.verify(email, code), 400,
                        {"code": ["Too many attempts. Request a new code."]})
        self.assertBody(self.verify(email, self.wrong(code)), 400,
                        {"code": ["Too many attempts. Request a new code."]})

    def test_four_wrong_guesses_still_allow_the_right_one(self):
        email = self.unique_email()
        code = self.register(email)
        for _ in range(4):
            self.verify(email, self.wrong(code))
        self.assertBody(self.verify(email, code), 200, {"detail": "Email verified."})

    def test_unknown_email_gets_the_same_answer(self):
        email = self.unique_email()
        code = self.register(email)
        known = self.verify(email, self.wrong(code))
        unknown = self.verify(self.unique_email("ghost"), code)
        self.assertEqual((known.status, known.body), (unknown.status, unknown.body))

    def test_codes_are_stored_only_as_hashes(self):
        email = self.unique_email()
        code = self.register(email)
        with self.service.db() as db:
            row = db.execute("SELECT code_hash FROM codes c JOIN users u ON u.id = c.user_id "
                             "WHERE u.email_key = ?", (email.lower(),)).fetchone()
        self.assertNotIn(code, row["code_hash"])
        self.assertRegex(row["code_hash"], r"^[0-9a-f]{64}$")

    def test_a_recovery_code_is_checked_without_being_used(self):
        email, _ = self.create_user()
        before = self.sink.count(email)
        r = self.api("POST", "recovery-request/", {"email": email})
        self.assertEqual(r.status, 200, r)
        code = self.sink.code_for(email, count=before + 1)
        self.assertBody(self.verify(email, code, "password_recovery"), 200,
                        {"detail": "Code verified."})
        self.assertBody(self.verify(email, code, "password_recovery"), 200,
                        {"detail": "Code verified."})


class FirstPassword(harness.ServiceTestCase):

    def verified(self, email=None):
        email = email or self.unique_email()
        code = self.register(email)
        r = self.api("POST", "verify-code/", {"email": email, "code": code,
                                              "purpose": "email_verification"})
        self.assertEqual(r.status, 200, r)
        return email, code

    def set_password(self, email, password, repeat=None, **extra):
        data = {"email": email, "password": password,
                "repeat_password": password if repeat is None else repeat}
        data.update(extra)
        return self.api("POST", "public-set-password/", data)

    def test_each_password_rule(self):
        # Letters only: a unique_email() holds digits that a numeric password
        # could be "similar" to.
        email, _ = self.verified("rules.only.letters@example.org")
        cases = {
            "short1!": ["This password is too short. It must contain at least 8 characters."],
            "password": ["This password is too common."],
            "83920174652": ["This password is entirely numeric."],
            "1234567": ["This password is too short. It must contain at least 8 characters.",
                        "This password is too common.", "This password is entirely numeric."],
            email: ["The password is too similar to the email."],
            "x" * 129: ["Ensure this field has no more than 128 characters."],
        }
        for password, messages in cases.items():
            self.assertBody(self.set_password(email, password), 400, {"password": messages})

    def test_mismatch_is_reported_with_the_field_errors(self):
        email, _ = self.verified()
        r = self.set_password(email, "short", "other")
        self.assertBody(r, 400, {
            "password": ["This password is too short. It must contain at least 8 characters."],
            "non_field_errors": ["The two password fields didn't match."]})
        r = self.set_password(email, "Gago123@", "Gago123@ ")  # never trimmed
        self.assertBody(r, 400, {"non_field_errors": ["The two password fields didn't match."]})

    def test_not_verified_unknown_or_late_cannot_set(self):
        cannot = {"non_field_errors": ["Password cannot be set for this account."]}
        email = self.unique_email()
        self.register(email)
        self.assertBody(self.set_password(email, "Gago123@"), 400, cannot)
        self.assertBody(self.set_password(self.unique_email("ghost"), "Gago123@"), 400, cannot)
        # (Late: the 30-minute window with a moved clock,
        # unit/api/limits_test.cc FirstPasswordWindowIsThirtyMinutes.)

    def test_only_once(self):
        email, _ = self.verified()
        self.assertBody(self.set_password(email, "Gago123@"), 200,
                        {"detail": "Password has been set."})
        self.assertBody(self.set_password(email, "Other123@"), 400,
                        {"non_field_errors": ["Password cannot be set for this account."]})
        self.login(email, "Gago123@")

    def test_optional_code_must_be_the_verifying_code(self):
        email, code = self.verified()
        wrong = "%06d" % ((int(code) + 7) % 900000 + 100000)
        self.assertBody(self.set_password(email, "Gago123@", code=wrong), 400,
                        {"code": ["Invalid or expired code."]})
        self.assertBody(self.set_password(email, "Gago123@", code=code), 200,
                        {"detail": "Password has been set."})

    def test_without_the_code_only_the_verifying_address_may_set_it(self):
        # §3: a stranger who knows the email (here: another loopback address,
        # which nginx reports as the client's) cannot set its password.
        email, code = self.verified()
        data = {"email": email, "password": "Gago123@", "repeat_password": "Gago123@"}
        r = self.api("POST", "public-set-password/", data, source="127.0.0.2")
        self.assertBody(r, 400, {"code": ["This field is required."]})
        r = self.api("POST", "public-set-password/", dict(data, code=code), source="127.0.0.2")
        self.assertBody(r, 200, {"detail": "Password has been set."})
        self.login(email, "Gago123@")

    def test_success_activates_the_account(self):
        email, _ = self.verified()
        self.set_password(email, "Gago123@")
        with self.service.db() as db:
            row = db.execute("SELECT is_active, password FROM users WHERE email_key = ?",
                             (email.lower(),)).fetchone()
        self.assertEqual(row["is_active"], 1)
        self.assertTrue(row["password"].startswith("pbkdf2_sha256$1000$"))


class FirstPasswordCodeRequired(harness.ServiceTestCase):
    service_env = {"AUTH_SET_PASSWORD_REQUIRES_CODE": "on"}

    def test_the_code_is_always_required(self):
        email = self.unique_email()
        code = self.register(email)
        self.assertEqual(self.api("POST", "verify-code/", {
            "email": email, "code": code, "purpose": "email_verification"}).status, 200)
        data = {"email": email, "password": "short", "repeat_password": "short"}
        self.assertBody(self.api("POST", "public-set-password/", data), 400, {
            "password": ["This password is too short. It must contain at least 8 characters."],
            "code": ["This field is required."]})
        data = {"email": email, "password": "Gago123@", "repeat_password": "Gago123@", "code": code}
        self.assertBody(self.api("POST", "public-set-password/", data), 200,
                        {"detail": "Password has been set."})


class ResendCode(harness.ServiceTestCase):
    SAME = {"detail": "If the account exists, a new code has been sent."}

    def test_unknown_email_gets_the_same_200(self):
        r = self.api("POST", "resend-code/", {"email": self.unique_email("ghost"),
                                              "purpose": "email_verification"})
        self.assertBody(r, 200, self.SAME)

    def test_resends_a_recovery_code(self):
        # (A fresh verification code after the first minute, with a moved
        # clock: unit/api/limits_test.cc ResendCodeSendsAFreshVerificationCode.)
        email, _ = self.create_user()
        self.assertBody(self.api("POST", "resend-code/",
                                 {"email": email, "purpose": "password_recovery"}), 200, self.SAME)
        code = self.sink.code_for(email, count=2)
        r = self.api("POST", "verify-code/", {"email": email, "code": code,
                                              "purpose": "password_recovery"})
        self.assertBody(r, 200, {"detail": "Code verified."})

    def test_no_verification_code_for_a_finished_account(self):
        # (Past the first minute too: unit/api/limits_test.cc
        # NoVerificationCodeForAFinishedAccount.)
        email, _ = self.create_user()
        before = self.sink.count(email)
        self.assertBody(self.api("POST", "resend-code/",
                                 {"email": email, "purpose": "email_verification"}), 200, self.SAME)
        time.sleep(0.5)
        self.assertEqual(self.sink.count(email), before)


if __name__ == "__main__":
    unittest.main()
