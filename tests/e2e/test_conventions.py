"""API.md §1 body conventions through nginx, on real endpoints: media types,
JSON parse errors, forms and multipart, DRF field messages."""

import json
import unittest

import harness


class BodyParsing(harness.ServiceTestCase):

    def test_unsupported_media_type_quotes_the_content_type_as_sent(self):
        r = self.service.request("POST", "/api/v1/auth/users/", "hello",
                                 {"Content-Type": "text/plain"})
        self.assertBody(r, 415, {"detail": 'Unsupported media type "text/plain" in request.'})
        r = self.service.request("POST", "/api/v1/auth/users/", "hello",
                                 {"Content-Type": "text/plain; charset=UTF-8"})
        self.assertBody(r, 415,
                        {"detail": 'Unsupported media type "text/plain; charset=UTF-8" in request.'})

    def test_json_with_charset_parameter_is_json(self):
        r = self.service.request("POST", "/api/v1/auth/resend-code/",
                                 json.dumps({"email": "x@example.com", "purpose": "email_verification"}),
                                 {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 200, r)

    def test_malformed_json_is_a_parse_error(self):
        for body in ('{"email": ', "{bad json}", '{"a": 1,}', "", "\xff\xfe"):
            if body == "":
                continue  # an empty body is {}
            r = self.service.request("POST", "/api/v1/auth/users/", body.encode("latin-1"),
                                     {"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(list(r.json()), ["detail"])
            self.assertTrue(r.json()["detail"].startswith("JSON parse error - "), r)

    def test_top_level_must_be_an_object(self):
        for body in ("[1, 2]", '"text"', "42", "null", "true"):
            r = self.service.request("POST", "/api/v1/auth/users/", body,
                                     {"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (body, r))
            self.assertTrue(r.json()["detail"].startswith("JSON parse error - "), r)

    def test_invalid_utf8_in_a_json_string_is_rejected(self):
        body = b'{"email": "a\xc3\x28@example.com", "terms_accepted": true}'
        r = self.service.request("POST", "/api/v1/auth/users/", body,
                                 {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertTrue(r.json()["detail"].startswith("JSON parse error - "), r)

    def test_an_escaped_lone_surrogate_is_rejected(self):
        # "\udc00" names no character: it could be neither stored nor echoed.
        for body in (b'{"email": "\\udc00@example.com", "terms_accepted": true}',
                     b'{"email": "a@example.com", "purpose": "\\ud800"}'):
            r = self.service.request("POST", "/api/v1/auth/users/", body,
                                     {"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (body, r))
            self.assertTrue(r.json()["detail"].startswith(
                "JSON parse error - The surrogate pair in string is invalid"), r)

    def test_deep_nesting_is_refused_not_crashed(self):
        body = '{"email": ' + "[" * 5000 + "]" * 5000 + "}"
        r = self.service.request("POST", "/api/v1/auth/users/", body,
                                 {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertTrue(r.json()["detail"].startswith("JSON parse error - "), r)
        self.assertEqual(self.api("GET", "health/").status, 200)

    def test_empty_body_is_an_empty_object(self):
        for headers in ({}, {"Content-Type": "application/json"}, {"Content-Type": "text/plain"}):
            r = self.service.request("POST", "/api/v1/auth/users/", b"", headers)
            self.assertBody(r, 400, {"email": ["This field is required."],
                                     "terms_accepted": ["You must accept the terms and conditions."]})

    def test_form_and_multipart_mean_the_same_as_json(self):
        email = self.unique_email("form")
        r = self.api("POST", "users/", {"email": email, "terms_accepted": "true"}, form=True)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], email)

        email2 = self.unique_email("multi")
        boundary = "----cpa-boundary-7MA4YWxkTrZu0gW"
        parts = []
        for name, value in (("email", email2), ("terms_accepted", "1")):
            parts.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                         % (boundary, name, value))
        body = "".join(parts) + "--%s--\r\n" % boundary
        r = self.service.request("POST", "/api/v1/auth/users/", body,
                                 {"Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], email2)

    def test_malformed_multipart_is_a_400_not_a_crash(self):
        for ctype, body in (("multipart/form-data", "--x\r\n"),
                            ("multipart/form-data; boundary=abc", "--abc\r\nno headers end"),
                            ("multipart/form-data; boundary=abc", "\x00\x01garbage")):
            r = self.service.request("POST", "/api/v1/auth/users/", body, {"Content-Type": ctype})
            self.assertEqual(r.status, 400, (ctype, body, r))
        self.assertEqual(self.api("GET", "health/").status, 200)

    def test_form_booleans_and_numbers_as_strings(self):
        r = self.api("POST", "users/", {"email": self.unique_email(), "terms_accepted": "0"},
                     form=True)
        self.assertBody(r, 400, {"terms_accepted": ["You must accept the terms and conditions."]})


class FieldMessages(harness.ServiceTestCase):

    def test_required_null_blank_and_type(self):
        r = self.api("POST", "resend-code/", {})
        self.assertBody(r, 400, {"email": ["This field is required."],
                                 "purpose": ["This field is required."]})
        r = self.api("POST", "resend-code/", {"email": None, "purpose": None})
        self.assertBody(r, 400, {"email": ["This field may not be null."],
                                 "purpose": ["This field may not be null."]})
        r = self.api("POST", "resend-code/", {"email": "   ", "purpose": ""})
        self.assertBody(r, 400, {"email": ["This field may not be blank."],
                                 "purpose": ['"" is not a valid choice.']})
        r = self.api("POST", "resend-code/", {"email": True, "purpose": "email_verification"})
        self.assertBody(r, 400, {"email": ["Not a valid string."]})

    def test_invalid_email_and_choice(self):
        r = self.api("POST", "resend-code/", {"email": "not-an-email", "purpose": "foo"})
        self.assertBody(r, 400, {"email": ["Enter a valid email address."],
                                 "purpose": ['"foo" is not a valid choice.']})
        # The value echoed is Python's str() of what json.loads made of it.
        for purpose, shown in ((["email_verification"], "['email_verification']"),
                               ({"a": None, "b": [True, 1.50]}, "{'a': None, 'b': [True, 1.5]}"),
                               (1.50, "1.5"), (False, "False")):
            r = self.api("POST", "resend-code/", {"email": "a@example.com", "purpose": purpose})
            self.assertBody(r, 400, {"purpose": ['"%s" is not a valid choice.' % shown]})
        for number, shown in ((b"1.50", "1.5"), (b"1E2", "100.0"), (b"-0", "0")):
            r = self.service.request("POST", "/api/v1/auth/resend-code/",
                                     b'{"email": "a@example.com", "purpose": ' + number + b"}",
                                     {"Content-Type": "application/json"})
            self.assertBody(r, 400, {"purpose": ['"%s" is not a valid choice.' % shown]})

    def test_null_characters_are_refused(self):
        r = self.api("POST", "resend-code/", {"email": "a\u0000@example.com",
                                              "purpose": "email_verification"})
        self.assertBody(r, 400, {"email": ["Null characters are not allowed.",
                                           "Enter a valid email address."]})

    def test_invalid_utf8_in_a_form_is_replaced_as_django_decodes_it(self):
        # bytes.decode("utf-8", "replace"): one U+FFFD per maximal ill-formed
        # subpart (a truncated character is one, a surrogate three).
        r = self.service.request("POST", "/api/v1/auth/resend-code/",
                                 "email=a%40example.com&purpose=x%E2%82y%ED%A0%80",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertBody(r, 400, {"purpose": ['"x\ufffdy\ufffd\ufffd\ufffd" is not a valid choice.']})

    def test_a_last_form_name_without_equals_is_blank(self):
        r = self.service.request("POST", "/api/v1/auth/verify-code/",
                                 "email=a%40example.com&purpose=email_verification&code",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertBody(r, 400, {"code": ["This field may not be blank."]})

    def test_semicolons_in_form_values_are_kept(self):
        r = self.service.request("POST", "/api/v1/auth/resend-code/",
                                 "email=a%40example.com;purpose=email_verification",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertBody(r, 400, {"email": ["Enter a valid email address."],
                                 "purpose": ["This field is required."]})

    def test_email_over_254_characters(self):
        email = "a" * 250 + "@example.com"
        r = self.api("POST", "resend-code/", {"email": email, "purpose": "email_verification"})
        self.assertBody(r, 400, {"email": ["Ensure this field has no more than 254 characters."]})

    def test_email_is_trimmed(self):
        email = self.unique_email()
        r = self.api("POST", "users/", {"email": "  %s \n" % email, "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], email)
        # str.strip() also takes Unicode spaces (no-break, ideographic, ...).
        email = self.unique_email()
        r = self.api("POST", "users/", {"email": "\u00a0\u3000%s\u2029" % email,
                                        "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["email"], email)


if __name__ == "__main__":
    unittest.main()
