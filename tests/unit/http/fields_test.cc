#include "http/fields.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "api/password_policy.h"
#include "http/body.h"

namespace cpa::http {
namespace {

using api::kPasswordField;

using Messages = std::vector<std::string>;
using Errors = std::vector<std::pair<std::string, Messages>>;

Body json(std::string_view text) {
  Result<Body> r = parse_body("application/json", text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Body();
}

Body form(std::string_view text) {
  Result<Body> r = parse_body("application/x-www-form-urlencoded", text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Body();
}

Value number(std::string text) { return Value{Value::Kind::kNumber, std::move(text), false}; }
Value string(std::string text) { return Value{Value::Kind::kString, std::move(text), false}; }

Errors errors_of(const Form& f) { return f.status().field_errors().fields; }

// --- Form::text

TEST(FormText, ReturnsTheTrimmedString) {
  Body b = json(R"({"name": "  Ada Lovelace \t\n"})");
  Form f(b);
  EXPECT_EQ(f.text("name"), "Ada Lovelace");
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE(f.status().ok());
}

TEST(FormText, RequiredMissingField) {
  Body b = json("{}");
  Form f(b);
  EXPECT_EQ(f.text("name"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"name", {"This field is required."}}}));
}

TEST(FormText, OptionalMissingFieldIsNoError) {
  Body b = json("{}");
  Form f(b);
  EXPECT_EQ(f.text("name", Text{.required = false}), std::nullopt);
  EXPECT_TRUE(f.ok());
}

TEST(FormText, NullIsRefusedEvenWhenOptional) {
  Body b = json(R"({"a": null, "b": null})");
  Form f(b);
  EXPECT_EQ(f.text("a"), std::nullopt);
  EXPECT_EQ(f.text("b", Text{.required = false}), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"a", {"This field may not be null."}},
                                  {"b", {"This field may not be null."}}}));
}

TEST(FormText, BlankAndWhitespaceOnlyAreBlank) {
  Body b = json(R"({"a": "", "b": "   \t"})");
  Form f(b);
  EXPECT_EQ(f.text("a"), std::nullopt);
  EXPECT_EQ(f.text("b"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"a", {"This field may not be blank."}},
                                  {"b", {"This field may not be blank."}}}));
}

TEST(FormText, AllowBlankGivesAnEmptyString) {
  Body b = json(R"({"a": "", "b": "   "})");
  Form f(b);
  EXPECT_EQ(f.text("a", Text{.allow_blank = true}), "");
  EXPECT_EQ(f.text("b", Text{.allow_blank = true}), "");
  EXPECT_TRUE(f.ok());
}

TEST(FormText, SecretsAreNeverTrimmed) {
  Body b = json(R"({"password": "  pass word \n", "spaces": "   "})");
  Form f(b);
  EXPECT_EQ(f.text("password", kPasswordField), "  pass word \n");
  // Whitespace is a (non-blank) secret when it is not trimmed, as in DRF.
  EXPECT_EQ(f.text("spaces", kPasswordField), "   ");
  EXPECT_TRUE(f.ok());
}

TEST(FormText, PasswordRuleIsRequiredNotBlankAndAtMost128) {
  EXPECT_TRUE(kPasswordField.required);
  EXPECT_FALSE(kPasswordField.allow_blank);
  EXPECT_FALSE(kPasswordField.trim);
  EXPECT_EQ(kPasswordField.max_length, 128u);

  Body b = json(R"({"empty": ""})");
  Form f(b);
  EXPECT_EQ(f.text("empty", kPasswordField), std::nullopt);
  EXPECT_EQ(f.text("missing", kPasswordField), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"empty", {"This field may not be blank."}},
                                  {"missing", {"This field is required."}}}));
}

TEST(FormText, MaxLengthCountsCodePointsNotBytes) {
  // "héllo€" is 6 characters in 9 bytes.
  Body b = json(R"({"ok": "h\u00e9llo\u20ac", "long": "h\u00e9llo\u20ac!", "emoji": "\ud83d\ude00\ud83d\ude00"})");
  Form f(b);
  EXPECT_EQ(f.text("ok", Text{.max_length = 6}), "h\xc3\xa9llo\xe2\x82\xac");
  EXPECT_EQ(f.text("long", Text{.max_length = 6}), std::nullopt);
  EXPECT_EQ(f.text("emoji", Text{.max_length = 2}), "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
  EXPECT_EQ(errors_of(f), (Errors{{"long", {"Ensure this field has no more than 6 characters."}}}));
}

TEST(FormText, MaxLengthAppliesAfterTrimming) {
  Body b = json(R"({"a": "  abc  ", "s": " abc "})");
  Form f(b);
  EXPECT_EQ(f.text("a", Text{.max_length = 3}), "abc");
  EXPECT_EQ(f.text("s", Text{.trim = false, .max_length = 3}), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"s", {"Ensure this field has no more than 3 characters."}}}));
}

TEST(FormText, SecretLongerThan128Characters) {
  std::string p129(129, 'x');
  Body b;
  b.set("password", string(p129));
  b.set("ok", string(std::string(128, 'x')));
  Form f(b);
  EXPECT_EQ(f.text("password", kPasswordField), std::nullopt);
  EXPECT_EQ(f.text("ok", kPasswordField), std::string(128, 'x'));
  EXPECT_EQ(errors_of(f), (Errors{{"password", {"Ensure this field has no more than 128 characters."}}}));
}

TEST(FormText, NumbersAreAcceptedAsText) {
  Body b = json(R"({"code": 533712, "pin": 1234, "f": 1.5})");
  Form f(b);
  EXPECT_EQ(f.text("code"), "533712");
  EXPECT_EQ(f.text("pin", kPasswordField), "1234");
  EXPECT_EQ(f.text("f"), "1.5");
  EXPECT_TRUE(f.ok());
}

TEST(FormText, BoolArrayAndObjectAreNotStrings) {
  Body b = json(R"({"b": true, "a": ["x"], "o": {"x": 1}})");
  Form f(b);
  EXPECT_EQ(f.text("b"), std::nullopt);
  EXPECT_EQ(f.text("a"), std::nullopt);
  EXPECT_EQ(f.text("o", kPasswordField), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"b", {"Not a valid string."}},
                                  {"a", {"Not a valid string."}},
                                  {"o", {"Not a valid string."}}}));
}

TEST(FormText, FormPostsWorkTheSameAsJson) {
  Body b = form("code=+533712+&password=+secret+");
  Form f(b);
  EXPECT_EQ(f.text("code"), "533712");
  EXPECT_EQ(f.text("password", kPasswordField), " secret ");
  EXPECT_TRUE(f.ok());
}

TEST(FormText, NulCharactersAreRefusedAsInDrf) {
  Body b = json(R"({"name": "a\u0000b"})");
  Form f(b);
  EXPECT_EQ(f.text("name"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"name", {"Null characters are not allowed."}}}));
}

// --- Form::email

TEST(FormEmail, TrimsAndKeepsCase) {
  Body b = json(R"({"email": "  Foo@Example.COM \n"})");
  Form f(b);
  EXPECT_EQ(f.email("email"), "Foo@Example.COM");
  EXPECT_TRUE(f.ok());
}

TEST(FormEmail, Invalid) {
  Body b = json(R"({"email": "not-an-email"})");
  Form f(b);
  EXPECT_EQ(f.email("email"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"email", {"Enter a valid email address."}}}));
}

TEST(FormEmail, RequiredNullBlankAndOptional) {
  Body b = json(R"({"n": null, "blank": "  "})");
  Form f(b);
  EXPECT_EQ(f.email("email"), std::nullopt);
  EXPECT_EQ(f.email("n"), std::nullopt);
  EXPECT_EQ(f.email("blank"), std::nullopt);
  EXPECT_EQ(f.email("optional", /*required=*/false), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"email", {"This field is required."}},
                                  {"n", {"This field may not be null."}},
                                  {"blank", {"This field may not be blank."}}}));
}

TEST(FormEmail, NotAString) {
  Body b = json(R"({"email": ["a@b.co"]})");
  Form f(b);
  EXPECT_EQ(f.email("email"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"email", {"Not a valid string."}}}));
}

TEST(FormEmail, LongerThan254CharactersButWellFormed) {
  // 64 + 1 + 195 = 260 characters, every label and the domain within limits.
  std::string email = std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') +
                      "." + std::string(63, 'd') + ".com";
  ASSERT_EQ(email.size(), 260u);
  Body b;
  b.set("email", string(email));
  Form f(b);
  EXPECT_EQ(f.email("email"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"email", {"Ensure this field has no more than 254 characters."}}}));
}

TEST(FormEmail, Exactly254CharactersIsAccepted) {
  std::string email = std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') +
                      "." + std::string(57, 'd') + ".com";
  ASSERT_EQ(email.size(), 254u);
  Body b;
  b.set("email", string(email));
  Form f(b);
  EXPECT_EQ(f.email("email"), email);
  EXPECT_TRUE(f.ok());
}

TEST(FormEmail, TooLongAndInvalidGivesBothMessagesInOrder) {
  Body b;
  b.set("email", string(std::string(300, 'x')));
  Form f(b);
  EXPECT_EQ(f.email("email"), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"email", {"Ensure this field has no more than 254 characters.",
                                             "Enter a valid email address."}}}));
}

TEST(FormEmail, LengthIsMeasuredAfterTrimming) {
  std::string email = std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') +
                      "." + std::string(57, 'd') + ".com";
  Body b;
  b.set("email", string("   " + email + "   "));
  Form f(b);
  EXPECT_EQ(f.email("email"), email);
  EXPECT_TRUE(f.ok());
}

// --- Form::boolean and parse_boolean

TEST(ParseBoolean, JsonBooleans) {
  EXPECT_EQ(parse_boolean(Value{Value::Kind::kBool, "", true}), true);
  EXPECT_EQ(parse_boolean(Value{Value::Kind::kBool, "", false}), false);
}

TEST(ParseBoolean, DrfStringSpellings) {
  for (const char* t : {"true", "True", "TRUE", "1", "yes", "Yes", "YES", "y", "Y", "t", "T", "on",
                        "On", "ON"})
    EXPECT_EQ(parse_boolean(string(t)), true) << t;
  for (const char* f : {"false", "False", "FALSE", "0", "no", "No", "NO", "n", "N", "f", "F", "off",
                        "Off", "OFF"})
    EXPECT_EQ(parse_boolean(string(f)), false) << f;
}

TEST(ParseBoolean, NumbersOneAndZero) {
  EXPECT_EQ(parse_boolean(number("1")), true);
  EXPECT_EQ(parse_boolean(number("0")), false);
  EXPECT_EQ(parse_boolean(number("1.0")), true);
  EXPECT_EQ(parse_boolean(number("0.0")), false);
  EXPECT_EQ(parse_boolean(number("2")), std::nullopt);
  EXPECT_EQ(parse_boolean(number("-1")), std::nullopt);
}

TEST(ParseBoolean, AnythingElseIsNotABoolean) {
  for (const char* s : {"", " true", "true ", "2", "maybe", "1.0", "null", "tru", "yes please"})
    EXPECT_EQ(parse_boolean(string(s)), std::nullopt) << "'" << s << "'";
  EXPECT_EQ(parse_boolean(Value{Value::Kind::kNull, "", false}), std::nullopt);
  EXPECT_EQ(parse_boolean(Value{Value::Kind::kArray, "", false}), std::nullopt);
  EXPECT_EQ(parse_boolean(Value{Value::Kind::kObject, "", false}), std::nullopt);
}

TEST(ParseBoolean, OtherNumericSpellingsOfOneAndZero) {
  EXPECT_EQ(parse_boolean(number("1.00")), true);
  EXPECT_EQ(parse_boolean(number("1e0")), true);
  EXPECT_EQ(parse_boolean(number("-0")), false);
  EXPECT_EQ(parse_boolean(number("0e5")), false);
}

TEST(FormBoolean, ValuesFromJsonAndForms) {
  Body j = json(R"({"a": true, "b": false, "c": 1, "d": 0, "e": "true", "f": "0"})");
  Form fj(j);
  EXPECT_EQ(fj.boolean("a"), true);
  EXPECT_EQ(fj.boolean("b"), false);
  EXPECT_EQ(fj.boolean("c"), true);
  EXPECT_EQ(fj.boolean("d"), false);
  EXPECT_EQ(fj.boolean("e"), true);
  EXPECT_EQ(fj.boolean("f"), false);
  EXPECT_TRUE(fj.ok());

  Body p = form("terms_accepted=true&x=off");
  Form fp(p);
  EXPECT_EQ(fp.boolean("terms_accepted"), true);
  EXPECT_EQ(fp.boolean("x"), false);
  EXPECT_TRUE(fp.ok());
}

TEST(FormBoolean, Errors) {
  Body b = json(R"({"bad": "maybe", "n": null, "num": 2, "arr": [true], "blank": ""})");
  Form f(b);
  EXPECT_EQ(f.boolean("bad"), std::nullopt);
  EXPECT_EQ(f.boolean("n"), std::nullopt);
  EXPECT_EQ(f.boolean("num"), std::nullopt);
  EXPECT_EQ(f.boolean("arr"), std::nullopt);
  EXPECT_EQ(f.boolean("blank"), std::nullopt);
  EXPECT_EQ(f.boolean("missing"), std::nullopt);
  EXPECT_EQ(f.boolean("optional", /*required=*/false), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"bad", {"Must be a valid boolean."}},
                                  {"n", {"This field may not be null."}},
                                  {"num", {"Must be a valid boolean."}},
                                  {"arr", {"Must be a valid boolean."}},
                                  {"blank", {"Must be a valid boolean."}},
                                  {"missing", {"This field is required."}}}));
}

// --- Form::choice

TEST(FormChoice, ValidChoice) {
  Body b = json(R"({"purpose": "password_recovery"})");
  Form f(b);
  EXPECT_EQ(f.choice("purpose", {"email_verification", "password_recovery"}), "password_recovery");
  EXPECT_TRUE(f.ok());
}

TEST(FormChoice, InvalidChoiceQuotesTheValue) {
  Body b = json(R"({"a": "x", "b": " email_verification", "c": "EMAIL_VERIFICATION", "d": 1, "e": true})");
  Form f(b);
  for (const char* name : {"a", "b", "c", "d", "e"})
    EXPECT_EQ(f.choice(name, {"email_verification", "password_recovery"}), std::nullopt) << name;
  EXPECT_EQ(errors_of(f), (Errors{{"a", {"\"x\" is not a valid choice."}},
                                  {"b", {"\" email_verification\" is not a valid choice."}},
                                  {"c", {"\"EMAIL_VERIFICATION\" is not a valid choice."}},
                                  {"d", {"\"1\" is not a valid choice."}},
                                  {"e", {"\"True\" is not a valid choice."}}}));
}

TEST(FormChoice, NumbersCompareAsTheirText) {
  Body b = json(R"({"n": 2})");
  Form f(b);
  EXPECT_EQ(f.choice("n", {"1", "2"}), "2");
  EXPECT_TRUE(f.ok());
}

TEST(FormChoice, NullAndMissing) {
  Body b = json(R"({"purpose": null})");
  Form f(b);
  EXPECT_EQ(f.choice("purpose", {"a"}), std::nullopt);
  EXPECT_EQ(f.choice("other", {"a"}), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"purpose", {"This field may not be null."}},
                                  {"other", {"This field is required."}}}));
}

TEST(FormChoice, BlankIsRejected) {
  Body b = json(R"({"purpose": ""})");
  Form f(b);
  EXPECT_EQ(f.choice("purpose", {"a", "b"}), std::nullopt);
  EXPECT_TRUE(f.failed("purpose"));
  EXPECT_EQ(f.status().http_status(), 400);
}

TEST(FormChoice, BlankGetsDrfsInvalidChoiceMessage) {
  Body b = json(R"({"purpose": ""})");
  Form f(b);
  EXPECT_EQ(f.choice("purpose", {"a", "b"}), std::nullopt);
  EXPECT_EQ(errors_of(f), (Errors{{"purpose", {"\"\" is not a valid choice."}}}));
}

// --- error collection

// Form::status() orders the errors by the order the fields were read, however
// late a check on one of them failed, and puts non_field_errors last.
TEST(FormErrors, FieldsInTheOrderTheyWereReadNonFieldErrorsLast) {
  Body b = json(R"({"email": "bad", "password": "", "repeat": "x"})");
  Form f(b);
  f.text("password", kPasswordField);
  f.email("email");
  f.fail_non_field("The two password fields didn't match.");
  f.boolean("terms_accepted");
  f.fail("password", "This password is too common.");
  EXPECT_FALSE(f.ok());
  EXPECT_TRUE(f.failed("password"));
  EXPECT_TRUE(f.failed("non_field_errors"));
  EXPECT_FALSE(f.failed("repeat"));
  EXPECT_EQ(errors_of(f),
            (Errors{{"password", {"This field may not be blank.", "This password is too common."}},
                    {"email", {"Enter a valid email address."}},
                    {"terms_accepted", {"This field is required."}},
                    {"non_field_errors", {"The two password fields didn't match."}}}));
}

TEST(FormErrors, ALateCheckOnAnEarlierFieldKeepsThatFieldsPlace) {
  Body b = json(R"({"password": "short", "repeat_password": ""})");
  Form f(b);
  std::optional<std::string> password = f.text("password", kPasswordField);
  f.text("repeat_password", kPasswordField);
  ASSERT_TRUE(password.has_value());
  f.fail("password", "This password is too short. It must contain at least 8 characters.");
  EXPECT_EQ(errors_of(f),
            (Errors{{"password", {"This password is too short. It must contain at least 8 characters."}},
                    {"repeat_password", {"This field may not be blank."}}}));
}

TEST(FormErrors, FieldsNeverReadComeAfterTheReadOnesAndBeforeNonFieldErrors) {
  Body b = json("{}");
  Form f(b);
  f.fail_non_field("first non-field");
  f.text("x");
  f.fail("extra", "an error on a field that was not read");
  f.text("y");
  f.fail_non_field("second non-field");
  EXPECT_EQ(errors_of(f), (Errors{{"x", {"This field is required."}},
                                  {"y", {"This field is required."}},
                                  {"extra", {"an error on a field that was not read"}},
                                  {"non_field_errors", {"first non-field", "second non-field"}}}));
}

TEST(FormErrors, ReadingAFieldTwiceKeepsItsFirstPlace) {
  Body b = json(R"({"a": null})");
  Form f(b);
  f.text("a");
  f.text("b");
  f.text("a");
  EXPECT_EQ(errors_of(f), (Errors{{"a", {"This field may not be null.", "This field may not be null."}},
                                  {"b", {"This field is required."}}}));
}

TEST(FormErrors, StatusIsA400Validation) {
  Body b = json("{}");
  Form f(b);
  EXPECT_TRUE(f.status().ok());
  f.text("email");
  Status s = f.status();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kValidation);
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_FALSE(s.is_storage_failure());
}

TEST(FormErrors, HasAndRaw) {
  Body b = json(R"({"a": 1})");
  Form f(b);
  EXPECT_TRUE(f.has("a"));
  EXPECT_FALSE(f.has("b"));
  ASSERT_NE(f.raw("a"), nullptr);
  EXPECT_EQ(f.raw("a")->text, "1");
  EXPECT_EQ(f.raw("b"), nullptr);
}

TEST(Messages, Texts) {
  EXPECT_EQ(msg::max_length(254), "Ensure this field has no more than 254 characters.");
  EXPECT_EQ(msg::invalid_choice("x"), "\"x\" is not a valid choice.");
  EXPECT_STREQ(msg::kInteger, "A valid integer is required.");
}

}  // namespace
}  // namespace cpa::http
