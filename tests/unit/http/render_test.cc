#include "http/render.h"

#include <gtest/gtest.h>

#include <string>

#include "core/status.h"
#include "http/response.h"

namespace cpa::http {
namespace {

std::string header_or_empty(const Response& r, std::string_view name) {
  const std::string* v = r.header(name);
  return v ? *v : "";
}

TEST(RenderError, SingleFieldError) {
  Response r = render_error(Status::Field("email", "Enter a valid email address."));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"email":["Enter a valid email address."]})");
  EXPECT_TRUE(r.headers.empty());
}

TEST(RenderError, ValidationErrorsAreCompactAndKeepTheirOrder) {
  FieldErrors e;
  e.add("password", "This password is too short. It must contain at least 8 characters.");
  e.add("email", "This field is required.");
  e.add("password", "This password is too common.");
  e.add("non_field_errors", "The two password fields didn't match.");
  Response r = render_error(Status::Validation(e));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"password\":[\"This password is too short. It must contain at least 8 characters.\","
            "\"This password is too common.\"],"
            "\"email\":[\"This field is required.\"],"
            "\"non_field_errors\":[\"The two password fields didn't match.\"]}");
}

TEST(RenderError, NonFieldError) {
  Response r = render_error(Status::NonField("Password cannot be set for this account."));
  EXPECT_EQ(r.body, R"({"non_field_errors":["Password cannot be set for this account."]})");
}

TEST(RenderError, QuotesAndUnicodeAreEncodedAsDrfDoes) {
  Response r = render_error(Status::Field("purpose", "\"x\" is not a valid choice."));
  EXPECT_EQ(r.body, R"({"purpose":["\"x\" is not a valid choice."]})");
  // UTF-8 goes out as is (DRF's UNICODE_JSON), not as \u escapes.
  Response u = render_error(Status::Field("purpose", "\"caf\xc3\xa9\" is not a valid choice."));
  EXPECT_EQ(u.body, "{\"purpose\":[\"\\\"caf\xc3\xa9\\\" is not a valid choice.\"]}");
  Response nl = render_error(Status::Field("purpose", "\"a\nb\" is not a valid choice."));
  EXPECT_EQ(nl.body, R"({"purpose":["\"a\nb\" is not a valid choice."]})");
}

// Python's json.dumps writes other control characters as \u00xx in lower
// case (RapidJSON would write upper case); the bytes must be DRF's.
TEST(RenderError, ControlCharactersAreEscapedInLowerCaseAsPythonDoes) {
  Response r = render_error(
      Status::Field("purpose", std::string("\"a\x1f\x0b\x01\x00\b\f\r\t\\z\x7f\" is not a valid choice.", 14 + 23)));
  EXPECT_EQ(r.body, R"({"purpose":["\"a\u001f\u000b\u0001\u0000\b\f\r\t\\z)" "\x7f"
                    R"(\" is not a valid choice."]})");
}

// DRF's JSONRenderer escapes U+2028 and U+2029 after json.dumps; other
// non-ASCII characters stay as they are.
TEST(RenderError, LineAndParagraphSeparatorsAreEscapedAsDrfDoes) {
  Response r = render_error(Status::Field("purpose", "\"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xe2\x80\xaa\xc3\xa9\" is not a valid choice."));
  EXPECT_EQ(r.body, "{\"purpose\":[\"\\\"a\\u2028b\\u2029c\xe2\x80\xaa\xc3\xa9\\\" is not a valid choice.\"]}");
}

TEST(RenderError, DetailWithoutCode) {
  Response r = render_error(Status::NotFound());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"detail":"Not found."})");
  EXPECT_TRUE(r.headers.empty());

  Response p = render_error(Status::PermissionDenied());
  EXPECT_EQ(p.status, 403);
  EXPECT_EQ(p.body, R"({"detail":"You do not have permission to perform this action."})");
}

TEST(RenderError, DetailWithCode) {
  Response r = render_error(Status::TokenInvalidOrExpired());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Token is invalid or expired","code":"token_not_valid"})");

  Response b = render_error(Status::TokenBlacklisted());
  EXPECT_EQ(b.status, 401);
  EXPECT_EQ(b.body, R"({"detail":"Token is blacklisted","code":"token_not_valid"})");
}

TEST(RenderError, NotAuthenticatedHasWwwAuthenticate) {
  Response r = render_error(Status::NotAuthenticated());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"Authentication credentials were not provided."})");
  EXPECT_EQ(header_or_empty(r, "WWW-Authenticate"), "Bearer realm=\"api\"");
  EXPECT_EQ(r.header("Retry-After"), nullptr);
  EXPECT_EQ(r.header("Allow"), nullptr);
}

TEST(RenderError, TokenNotValidHasWwwAuthenticate) {
  Response r = render_error(Status::TokenNotValid());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body,
            R"({"detail":"Given token not valid for any token type","code":"token_not_valid"})");
  EXPECT_EQ(header_or_empty(r, "WWW-Authenticate"), "Bearer realm=\"api\"");
}

TEST(RenderError, TokenEndpoint401sHaveWwwAuthenticateAsInSimplejwt) {
  EXPECT_EQ(header_or_empty(render_error(Status::TokenInvalidOrExpired()), "WWW-Authenticate"),
            "Bearer realm=\"api\"");
  EXPECT_EQ(header_or_empty(render_error(Status::TokenBlacklisted()), "WWW-Authenticate"),
            "Bearer realm=\"api\"");
}

TEST(RenderError, ThrottledHasRetryAfter) {
  Response r = render_error(Status::Throttled(42));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"detail":"Request was throttled. Expected available in 42 seconds."})");
  EXPECT_EQ(header_or_empty(r, "Retry-After"), "42");
  EXPECT_EQ(r.header("WWW-Authenticate"), nullptr);

  Response one = render_error(Status::Throttled(1));
  EXPECT_EQ(one.body, R"({"detail":"Request was throttled. Expected available in 1 second."})");
  EXPECT_EQ(header_or_empty(one, "Retry-After"), "1");
}

TEST(RenderError, UnavailableIs503WithRetryAfterAndNoReason) {
  Response r = render_error(Status::Unavailable("database is locked: /srv/auth/var/auth.db"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"detail":"Service temporarily unavailable."})");
  EXPECT_FALSE(header_or_empty(r, "Retry-After").empty());
  EXPECT_GT(std::stoi(header_or_empty(r, "Retry-After")), 0);
  EXPECT_EQ(r.body.find("locked"), std::string::npos);
}

TEST(RenderError, MethodNotAllowedHasAllow) {
  Response r = render_error(Status::MethodNotAllowed("GET", "POST"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, R"({"detail":"Method \"GET\" not allowed."})");
  EXPECT_EQ(header_or_empty(r, "Allow"), "POST");

  Response o = render_error(Status::MethodNotAllowed("OPTIONS", "GET, POST, HEAD"));
  EXPECT_EQ(o.body, R"({"detail":"Method \"OPTIONS\" not allowed."})");
  EXPECT_EQ(header_or_empty(o, "Allow"), "GET, POST, HEAD");
}

TEST(RenderError, InternalNeverShowsItsReason) {
  Status s = Status::Internal("no such table: users [SELECT u.id FROM users u] at /srv/auth/var/auth.db");
  Response r = render_error(s);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"detail":"Internal server error."})");
  EXPECT_EQ(r.body.find("users"), std::string::npos);
  EXPECT_EQ(r.body.find("/srv"), std::string::npos);
  EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
  EXPECT_EQ(r.header("Retry-After"), nullptr);
}

TEST(RenderError, BodyLimitAndMediaTypeErrors) {
  Response big = render_error(Status::TooLarge());
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.body, R"({"detail":"Request body too large."})");

  Response media = render_error(Status::UnsupportedMediaType("text/plain; charset=\"x\""));
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(media.body,
            R"({"detail":"Unsupported media type \"text/plain; charset=\"x\"\" in request."})");
  // Header bytes are Latin-1 (PEP 3333): 0xE9 is "é", sent as UTF-8.
  Response latin1 = render_error(Status::UnsupportedMediaType("text/\xe9"));
  EXPECT_EQ(latin1.body, "{\"detail\":\"Unsupported media type \\\"text/\xc3\xa9\\\" in request.\"}");

  Response parse = render_error(Status::ParseError("Missing a comma (at character 7)."));
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(parse.body, R"({"detail":"JSON parse error - Missing a comma (at character 7)."})");
}

}  // namespace
}  // namespace cpa::http
