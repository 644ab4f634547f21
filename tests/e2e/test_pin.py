"""The payment PIN (API.md §6) through nginx, including the seed's Pin Reset
and Pin Reset Verify requests as written."""

import threading
import time
import unittest

import harness

INVALID_PIN = {"pin": ["Invalid PIN."]}


class Pin(harness.ServiceTestCase):

    def setUp(self):
        self.email, _ = self.create_user()
        self.token = self.login(self.email)["access"]

    def post(self, route, data=None, token=None):
        return self.api("POST", route, data, token=token or self.token)

    def set_pin(self, pin, repeat=None, **extra):
        data = {"pin": pin, "repeat_pin": pin if repeat is None else repeat}
        data.update(extra)
        return self.post("set-pin/", data)

    def reset_code(self):
        before = self.sink.count(self.email)
        self.assertBody(self.post("reset-pin-request/"), 200,
                        {"detail": "A PIN reset code has been sent to your email."})
        msg = self.sink.wait_for(self.email, before + 1)
        self.assertEqual(msg["Subject"], "Your PIN reset code")
        return harness.SmtpSink.code_in(msg)

    def me_has_pin(self):
        with self.service.db() as db:
            return db.execute("SELECT pin_hash FROM users WHERE email_key = ?",
                              (self.email.lower(),)).fetchone()[0] is not None

    def test_routes_need_a_token(self):
        for route in ("set-pin/", "verify-pin/", "reset-pin-request/", "reset-pin-verify/",
                      "reset-email-request/", "reset-email-verify/"):
            r = self.api("POST", route, {})
            self.assertBody(r, 401, {"detail": "Authentication credentials were not provided."})
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="api"')
            r = self.api("GET", route)  # 401 before 405
            self.assertEqual(r.status, 401)
            r = self.api("GET", route, token=self.token)
            self.assertBody(r, 405, {"detail": 'Method "GET" not allowed.'})
            self.assertEqual(r.header("Allow"), "POST")

    def test_a_refresh_token_is_not_an_access_token(self):
        refresh = self.login(self.email)["refresh"]
        r = self.post("verify-pin/", {"pin": "1234"}, token=refresh)
        self.assertBody(r, 401, {"detail": "Given token not valid for any token type",
                                 "code": "token_not_valid"})
        for header in ("Bearer", "Bearer a b", "Bearer garbage", "JWT " + refresh):
            r = self.api("POST", "verify-pin/", {"pin": "1234"}, headers={"Authorization": header})
            self.assertBody(r, 401, {"detail": "Given token not valid for any token type",
                                     "code": "token_not_valid"})
        r = self.api("POST", "verify-pin/", {"pin": "1234"},
                     headers={"Authorization": "Basic dXNlcjpwYXNz"})
        self.assertBody(r, 401, {"detail": "Authentication credentials were not provided."})
        r = self.api("POST", "verify-pin/", {"pin": "1234"},
                     headers={"Authorization": "JWT " + self.token})
        self.assertBody(r, 400, {"pin": ["No PIN is set for this account."]})

    def test_first_pin_then_verify(self):
        self.assertBody(self.post("verify-pin/", {"pin": "1234"}), 400,
                        {"pin": ["No PIN is set for this account."]})
        self.assertBody(self.set_pin("1234"), 200, {"detail": "PIN has been set."})
        self.assertTrue(self.me_has_pin())
        self.assertBody(self.post("verify-pin/", {"pin": "1234"}), 200, {"detail": "PIN is valid."})
        self.assertBody(self.post("verify-pin/", {"pin": 1234}), 200, {"detail": "PIN is valid."})
        self.assertBody(self.post("verify-pin/", {"pin": "4321"}), 400, INVALID_PIN)
        self.assertBody(self.post("verify-pin/", {"pin": " 1234"}), 400, INVALID_PIN)  # never trimmed

    def test_pin_format_and_mismatch(self):
        for bad in ("123", "1234567", "12a4", " 1234", "", "١٢٣٤"):
            r = self.set_pin(bad)
            expected = ({"pin": ["This field may not be blank."],
                         "repeat_pin": ["This field may not be blank."]} if bad == "" else
                        {"pin": ["PIN must be 4 to 6 digits."]})
            self.assertBody(r, 400, expected)
        self.assertBody(self.set_pin("1234", "1235"), 400,
                        {"non_field_errors": ["The two PIN fields didn't match."]})
        self.assertBody(self.post("set-pin/", {"pin": "12"}), 400,
                        {"pin": ["PIN must be 4 to 6 digits."],
                         "repeat_pin": ["This field is required."]})
        # §1: the cross-field check is reported with the field errors.
        self.assertBody(self.set_pin("12a", "9999"), 400,
                        {"pin": ["PIN must be 4 to 6 digits."],
                         "non_field_errors": ["The two PIN fields didn't match."]})
        self.assertBody(self.set_pin("123456"), 200, {"detail": "PIN has been set."})
        self.assertBody(self.set_pin("12", "1234"), 400,
                        {"pin": ["PIN must be 4 to 6 digits."],
                         "current_pin": ["This field is required."],
                         "non_field_errors": ["The two PIN fields didn't match."]})

    def test_changing_a_pin_needs_the_current_one(self):
        self.set_pin("1234")
        self.assertBody(self.set_pin("5678"), 400, {"current_pin": ["This field is required."]})
        self.assertBody(self.set_pin("5678", current_pin="0000"), 400,
                        {"current_pin": ["Invalid PIN."]})
        self.assertBody(self.set_pin("5678", current_pin="1234"), 200,
                        {"detail": "PIN has been set."})
        self.assertBody(self.post("verify-pin/", {"pin": "5678"}), 200, {"detail": "PIN is valid."})

    def test_five_failures_lock_for_fifteen_minutes(self):
        self.set_pin("1234")
        for _ in range(5):
            self.assertBody(self.post("verify-pin/", {"pin": "9999"}), 400, INVALID_PIN)
        r = self.post("verify-pin/", {"pin": "1234"})
        self.assertEqual(r.status, 429, r)
        retry = int(r.header("Retry-After"))
        self.assertTrue(890 <= retry <= 900, retry)
        self.assertBody(r, 429, {"detail": "Request was throttled. Expected available in %d seconds."
                                 % retry})
        # A wrong current_pin in set-pin/ is locked out too.
        self.assertEqual(self.set_pin("5678", current_pin="1234").status, 429)
        # (The lock's end and the strikes starting over, with a moved clock:
        # unit/api/limits_test.cc PinLockAndItsEnd.)

    def test_wrong_current_pin_counts_as_a_strike(self):
        self.set_pin("1234")
        for _ in range(3):
            self.set_pin("5678", current_pin="0000")
        for _ in range(2):
            self.assertBody(self.post("verify-pin/", {"pin": "9999"}), 400, INVALID_PIN)
        self.assertEqual(self.post("verify-pin/", {"pin": "1234"}).status, 429)

    def test_strikes_are_exact_under_concurrency(self):
        self.set_pin("1234")
        results = []
        barrier = threading.Barrier(12)

        def guess():
            barrier.wait()
            results.append(self.post("verify-pin/", {"pin": "9999"}).status)
        threads = [threading.Thread(target=guess) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [400] * 5 + [429] * 7)

    def test_a_first_pin_without_current_pin_is_set_once_under_concurrency(self):
        # No PIN yet, so no current_pin is asked; of concurrent first PINs one
        # wins, and the others then need the PIN it set.
        results = []
        barrier = threading.Barrier(6)

        def first_pin(pin):
            barrier.wait()
            r = self.set_pin(pin)
            results.append((r.status, r.body))
        threads = [threading.Thread(target=first_pin, args=("%04d" % (1000 + i),))
                   for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        required = (400, b'{"current_pin":["This field is required."]}')
        self.assertEqual(sorted(results),
                         sorted([(200, b'{"detail":"PIN has been set."}')] + [required] * 5))

    def test_seed_pin_reset_request_and_verify_as_written(self):
        self.set_pin("1234")
        before = self.sink.count(self.email)
        r = self.service.request("POST", "/api/v1/auth/reset-pin-request/", None,
                                 {"Authorization": "Bearer " + self.token})
        self.assertBody(r, 200, {"detail": "A PIN reset code has been sent to your email."})
        code = self.sink.code_for(self.email, count=before + 1)
        r = self.service.request("POST", "/api/v1/auth/reset-pin-verify/",
                                 '{\n    "code" : %s\n}' % code,
                                 {"Content-Type": "application/json",
                                  "Authorization": "Bearer " + self.token})
        self.assertBody(r, 200, {"detail": "Code verified. You may now set a new PIN."})
        # The window is open: no current_pin needed, once.
        self.assertBody(self.set_pin("8642"), 200, {"detail": "PIN has been set."})
        self.assertBody(self.set_pin("1357"), 400, {"current_pin": ["This field is required."]})

    # (The reset window's end: unit/api/limits_test.cc PinResetWindowIsTenMinutes.)

    def test_one_shot_reset_also_without_a_previous_pin_and_clears_a_lock(self):
        code = self.reset_code()
        self.assertBody(self.post("reset-pin-verify/", {"code": code, "pin": "2468",
                                                        "repeat_pin": "2468"}),
                        200, {"detail": "PIN has been reset."})
        self.assertBody(self.post("verify-pin/", {"pin": "2468"}), 200, {"detail": "PIN is valid."})
        for _ in range(5):
            self.post("verify-pin/", {"pin": "0000"})
        self.assertEqual(self.post("verify-pin/", {"pin": "2468"}).status, 429)
        # (A second code a minute later clearing the lock: unit/api/limits_test.cc
        # OneShotPinResetClearsTheLock.)

    def test_reset_verify_errors(self):
        code = self.reset_code()
        wrong = "%06d" % ((int(code) + 1) % 900000 + 100000)
        self.assertBody(self.post("reset-pin-verify/", {"code": wrong}), 400,
                        {"code": ["Invalid or expired code."]})
        self.assertBody(self.post("reset-pin-verify/", {"code": code, "pin": "12"}), 400,
                        {"pin": ["PIN must be 4 to 6 digits."],
                         "repeat_pin": ["This field is required."]})
        self.assertBody(self.post("reset-pin-verify/", {}), 400, {"code": ["This field is required."]})
        self.assertBody(self.post("reset-pin-verify/", {"code": code}), 200,
                        {"detail": "Code verified. You may now set a new PIN."})
        self.assertBody(self.post("reset-pin-verify/", {"code": code}), 400,
                        {"code": ["Invalid or expired code."]})

    def test_reset_request_is_limited(self):
        self.reset_code()
        r = self.post("reset-pin-request/")
        self.assertEqual(r.status, 429, r)
        self.assertTrue(1 <= int(r.header("Retry-After")) <= 60)

    def test_pins_are_stored_hashed(self):
        self.set_pin("135790")
        with self.service.db() as db:
            stored = db.execute("SELECT pin_hash FROM users WHERE email_key = ?",
                                (self.email.lower(),)).fetchone()[0]
        self.assertTrue(stored.startswith("pbkdf2_sha256$1000$"))
        self.assertNotIn("135790", stored)


if __name__ == "__main__":
    unittest.main()
