#include "http/body.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <iterator>
#include <string>
#include <utility>

namespace cpa::http {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kForm = "application/x-www-form-urlencoded";

Body parse_ok(std::string_view content_type, std::string_view body) {
  Result<Body> r = parse_body(content_type, body);
  EXPECT_TRUE(r.ok()) << "parse_body(" << content_type << ", " << body
                      << ") failed: " << (r.ok() ? "" : r.status().detail());
  return r.ok() ? *r : Body();
}

Status parse_error(std::string_view content_type, std::string_view body) {
  Result<Body> r = parse_body(content_type, body);
  EXPECT_FALSE(r.ok()) << "parse_body(" << content_type << ", ...) unexpectedly succeeded";
  return r.ok() ? Status() : r.status();
}

// `{"a":` + n-1 nested arrays + `}`: n levels of nesting, the top object included.
std::string nested_json(int depth) {
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// --- media_type

TEST(MediaType, LowerCasesAndDropsParameters) {
  EXPECT_EQ(media_type("application/json"), "application/json");
  EXPECT_EQ(media_type("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_EQ(media_type("  multipart/form-data ; boundary=x"), "multipart/form-data");
  EXPECT_EQ(media_type("\tTEXT/Plain\t"), "text/plain");
  EXPECT_EQ(media_type(""), "");
  EXPECT_EQ(media_type(";charset=utf-8"), "");
}

// --- empty bodies, size limit, media types

TEST(ParseBody, EmptyBodyIsAnEmptyObjectForAnyContentType) {
  for (const char* ct : {kJson, kForm, "multipart/form-data", "text/plain", "", "garbage"}) {
    Result<Body> r = parse_body(ct, "");
    ASSERT_TRUE(r.ok()) << ct;
    EXPECT_EQ(r->size(), 0u) << ct;
  }
}

TEST(ParseBody, UnsupportedMediaTypeQuotesTheContentTypeAsSent) {
  Status s = parse_error("text/plain; charset=UTF-8", "hello");
  EXPECT_EQ(s.http_status(), 415);
  EXPECT_EQ(s.kind(), Status::Kind::kDetail);
  EXPECT_EQ(s.detail(), "Unsupported media type \"text/plain; charset=UTF-8\" in request.");

  Status missing = parse_error("", "{}");
  EXPECT_EQ(missing.http_status(), 415);
  EXPECT_EQ(missing.detail(), "Unsupported media type \"\" in request.");

  // Only the media type decides; a JSON body under text/json is still refused.
  EXPECT_EQ(parse_error("text/json", "{}").http_status(), 415);
  EXPECT_EQ(parse_error("application/jsonx", "{}").http_status(), 415);
}

TEST(ParseBody, ContentTypeIsCaseInsensitiveAndMayCarryParameters) {
  Body b = parse_ok("Application/JSON; charset=utf-8", R"({"email": "a@b.co"})");
  ASSERT_NE(b.find("email"), nullptr);
  EXPECT_EQ(b.find("email")->text, "a@b.co");

  Body f = parse_ok("APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8", "email=a%40b.co");
  ASSERT_NE(f.find("email"), nullptr);
  EXPECT_EQ(f.find("email")->text, "a@b.co");
}

TEST(ParseBody, BodyOverTheLimitIs413) {
  // A valid JSON object of exactly kMaxBodyBytes is accepted.
  std::string head = "{\"a\":\"";
  std::string tail = "\"}";
  std::string exact = head + std::string(kMaxBodyBytes - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(exact.size(), kMaxBodyBytes);
  Body b = parse_ok(kJson, exact);
  ASSERT_NE(b.find("a"), nullptr);

  std::string over = head + std::string(kMaxBodyBytes - head.size() - tail.size() + 1, 'x') + tail;
  Status s = parse_error(kJson, over);
  EXPECT_EQ(s.http_status(), 413);
  EXPECT_EQ(s.detail(), "Request body too large.");

  // The size is checked whatever the media type.
  EXPECT_EQ(parse_error(kForm, std::string(kMaxBodyBytes + 1, 'a')).http_status(), 413);
  EXPECT_EQ(parse_error("text/plain", std::string(kMaxBodyBytes + 1, 'a')).http_status(), 413);
}

// --- JSON

// Each number as Python's str() shows what json.loads makes of it (the
// expected texts are CPython's): DRF echoes and stores that text.
TEST(ParseJson, NumbersAreKeptAsPythonStrOfTheirValue) {
  Body b = parse_ok(kJson,
                    R"json({"code": 533712, "neg": -1.50e+3, "big": 123456789012345678901234567890, "zero": 0, "negzero": -0, "f": 1.50, "e": 1e3, "tiny": 1.5e-5, "huge": 1e16, "p15": 1e15, "small": 0.0001, "under": -1e-400, "pi": 3.141592653589793238, "one": 0.1e1, "x": 12345678901234567890.5})json");
  const std::pair<const char*, const char*> expected[] = {
    {"code", "533712"},
    {"neg", "-1500.0"},
    {"big", "123456789012345678901234567890"},
    {"zero", "0"},
    {"negzero", "0"},
    {"f", "1.5"},
    {"e", "1000.0"},
    {"tiny", "1.5e-05"},
    {"huge", "1e+16"},
    {"p15", "1000000000000000.0"},
    {"small", "0.0001"},
    {"under", "-0.0"},
    {"pi", "3.141592653589793"},
    {"one", "1.0"},
    {"x", "1.2345678901234567e+19"},
  };
  EXPECT_EQ(b.size(), std::size(expected));
  for (const auto& [name, text] : expected) {
    ASSERT_NE(b.find(name), nullptr) << name;
    EXPECT_EQ(b.find(name)->kind, Value::Kind::kNumber) << name;
    EXPECT_EQ(b.find(name)->text, text) << name;
  }
}

TEST(ParseJson, StringsNullAndBooleans) {
  Body b = parse_ok(kJson,
                    R"({"s": "caf\u00e9 \"q\"\n", "empty": "", "n": null, "t": true, "f": false})");
  EXPECT_EQ(b.size(), 5u);
  ASSERT_NE(b.find("s"), nullptr);
  EXPECT_EQ(b.find("s")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("s")->text, "caf\xc3\xa9 \"q\"\n");
  EXPECT_EQ(b.find("empty")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("empty")->text, "");
  EXPECT_EQ(b.find("n")->kind, Value::Kind::kNull);
  EXPECT_EQ(b.find("t")->kind, Value::Kind::kBool);
  EXPECT_TRUE(b.find("t")->boolean);
  EXPECT_EQ(b.find("f")->kind, Value::Kind::kBool);
  EXPECT_FALSE(b.find("f")->boolean);
  EXPECT_EQ(b.find("missing"), nullptr);
}

TEST(ParseJson, StringWithAnEscapedNulKeepsItsFullLength) {
  Body b = parse_ok(kJson, R"({"s": "a\u0000b"})");
  ASSERT_NE(b.find("s"), nullptr);
  EXPECT_EQ(b.find("s")->text, std::string("a\0b", 3));
}

// A nested value is kept as Python's str() of it (CPython's texts): what
// DRF's ChoiceField echoes. Its keys never become top-level fields.
TEST(ParseJson, NestedValuesAreKeptAsPythonStrOfTheirValue) {
  Body b = parse_ok(kJson,
                    R"json({"o": {"email": "inner@x.co", "k": [1]}, "a": [1, {"b": 2}], "after": 1, "s": ["it's", "say \"hi\"", "both '\"", "\u0001\t\n\\", "caf\u00e9\u00a0\u200b\ud83d\ude00\ue000\u0085", null, true, false, 1.50, [], {}], "e": [[[]]], "d": {"a": {"b": []}, "c": null}})json");
  const std::pair<const char*, const char*> expected[] = {
    {"o", "{'email': 'inner@x.co', 'k': [1]}"},
    {"a", "[1, {'b': 2}]"},
    {"after", "1"},
    {"s", "[\"it's\", 'say \"hi\"', 'both \\'\"', '\\x01\\t\\n\\\\', 'caf\xc3\xa9\\xa0\\u200b\xf0\x9f\x98\x80\\ue000\\x85', None, True, False, 1.5, [], {}]"},
    {"e", "[[[]]]"},
    {"d", "{'a': {'b': []}, 'c': None}"},
  };
  EXPECT_EQ(b.size(), std::size(expected));
  for (const auto& [name, text] : expected) {
    ASSERT_NE(b.find(name), nullptr) << name;
    EXPECT_EQ(b.find(name)->text, text) << name;
  }
  EXPECT_EQ(b.find("o")->kind, Value::Kind::kObject);
  EXPECT_EQ(b.find("a")->kind, Value::Kind::kArray);
  EXPECT_EQ(b.find("email"), nullptr);
  EXPECT_EQ(b.find("k"), nullptr);
  EXPECT_EQ(b.find("b"), nullptr);

  // A repeated key keeps its first place and takes the last value, at any
  // depth, as a Python dict does (CPython's str()).
  Body d = parse_ok(kJson, R"({"o": {"x": 1, "y": 2, "x": 3}, )"
                           R"("n": {"a": {"k": [1], "k": {"z": null, "z": true}}, "b": [{"q": 1, "q": 2}]}})");
  EXPECT_EQ(d.find("o")->text, "{'x': 3, 'y': 2}");
  EXPECT_EQ(d.find("n")->text, "{'a': {'k': {'z': True}}, 'b': [{'q': 2}]}");
}

TEST(ParseJson, NestedKeyDoesNotOverrideATopLevelField) {
  Body before = parse_ok(kJson, R"({"email": "good@x.co", "x": {"email": "evil@x.co"}})");
  ASSERT_NE(before.find("email"), nullptr);
  EXPECT_EQ(before.find("email")->text, "good@x.co");

  Body after = parse_ok(kJson, R"({"x": {"email": "evil@x.co"}, "email": "good@x.co"})");
  ASSERT_NE(after.find("email"), nullptr);
  EXPECT_EQ(after.find("email")->text, "good@x.co");
  EXPECT_EQ(after.find("x")->kind, Value::Kind::kObject);
}

TEST(ParseJson, DuplicateKeysLastWins) {
  Body b = parse_ok(kJson, R"({"a": 1, "b": 2, "a": "two"})");
  EXPECT_EQ(b.size(), 2u);
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("a")->text, "two");

  Body c = parse_ok(kJson, R"({"a": "x", "a": {"y": 1}})");
  EXPECT_EQ(c.find("a")->kind, Value::Kind::kObject);
}

TEST(ParseJson, EmptyObjectIsAnEmptyBody) {
  EXPECT_EQ(parse_ok(kJson, "{}").size(), 0u);
  EXPECT_EQ(parse_ok(kJson, " \n\t{ }\r\n").size(), 0u);
}

TEST(ParseJson, InvalidUtf8IsAParseError) {
  for (std::string bad : {std::string("{\"a\": \"\xff\"}"), std::string("{\"\xc3\": 1}"),
                          std::string("{\"a\": \"\xed\xa0\x80\"}"),  // a surrogate
                          std::string("{\"a\": \"\xc0\xaf\"}")}) {    // overlong
    Status s = parse_error(kJson, bad);
    EXPECT_EQ(s.http_status(), 400);
    EXPECT_EQ(s.kind(), Status::Kind::kDetail);
    EXPECT_TRUE(starts_with(s.detail(), "JSON parse error - ")) << s.detail();
  }
}

// Escapes decode to code points; a lone surrogate is none, so it cannot
// become UTF-8. RapidJSON refuses a lone high surrogate itself and would let
// a lone low one through as CESU-8 bytes.
TEST(ParseJson, EscapedLoneSurrogateIsAParseError) {
  for (const char* bad : {R"({"a": "\udc00"})", R"({"\udfff": 1})", R"({"a": "x\ud800"})",
                          R"({"a": "\ud800\u0041"})", R"({"a": {"b": ["\udc00"]}})"}) {
    Status s = parse_error(kJson, bad);
    EXPECT_EQ(s.http_status(), 400) << bad;
    EXPECT_TRUE(starts_with(s.detail(), "JSON parse error - The surrogate pair in string is invalid"))
        << bad << " -> " << s.detail();
  }
  // A proper pair is one code point.
  EXPECT_EQ(parse_ok(kJson, R"({"a": "\ud83d\ude00"})").find("a")->text, "\xf0\x9f\x98\x80");
}

// Python's json refuses a UTF-8 BOM ("Unexpected UTF-8 BOM"), and so any
// stray byte of one: DRF answers a parse error.
TEST(ParseJson, ABomOrAStrayByteOfOneIsAParseError) {
  for (std::string bad : {std::string("\xef\xbb\xbf{}"), std::string("\xbf{}"),
                          std::string("\xef{\"a\": 1}")}) {
    Status s = parse_error(kJson, bad);
    EXPECT_EQ(s.http_status(), 400);
    EXPECT_TRUE(starts_with(s.detail(), "JSON parse error - ")) << s.detail();
  }
}

TEST(ParseJson, TopLevelMustBeAnObject) {
  for (const char* bad : {"[1, 2]", "\"string\"", "42", "null", "true", "[]"}) {
    Status s = parse_error(kJson, bad);
    EXPECT_EQ(s.http_status(), 400) << bad;
    EXPECT_EQ(s.detail(), "JSON parse error - The top level must be a JSON object.") << bad;
  }
}

TEST(ParseJson, MalformedJsonIsAParseError) {
  for (const char* bad : {"{", "{\"a\":}", "{\"a\" 1}", "{'a': 1}", "{\"a\": 1,}", "{} {}",
                          "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": 01}", "   ", "x"}) {
    Status s = parse_error(kJson, bad);
    EXPECT_EQ(s.http_status(), 400) << bad;
    EXPECT_TRUE(starts_with(s.detail(), "JSON parse error - ")) << bad << " -> " << s.detail();
    EXPECT_EQ(s.detail().find('\n'), std::string::npos) << bad;
  }
}

TEST(ParseJson, NestingUpToKMaxJsonDepthIsAccepted) {
  ASSERT_EQ(kMaxJsonDepth, 32);
  Body b = parse_ok(kJson, nested_json(kMaxJsonDepth));
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->kind, Value::Kind::kArray);
}

TEST(ParseJson, NestingPastKMaxJsonDepthIsAParseError) {
  Status s = parse_error(kJson, nested_json(kMaxJsonDepth + 1));
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_EQ(s.detail(), "JSON parse error - Nesting is too deep.");

  // Very deep input (no recursion in the parser) is refused the same way.
  Status deep = parse_error(kJson, "{\"a\":" + std::string(20000, '['));
  EXPECT_EQ(deep.http_status(), 400);
  EXPECT_EQ(deep.detail(), "JSON parse error - Nesting is too deep.");
}

// --- application/x-www-form-urlencoded

TEST(ParseForm, DecodesPlusAndPercent) {
  Body b = parse_ok(kForm, "a=1+2&b=%41%42&c=x%2By&email=foo%40example.com&u=%C3%A9%E2%82%AC");
  EXPECT_EQ(b.find("a")->text, "1 2");
  EXPECT_EQ(b.find("b")->text, "AB");
  EXPECT_EQ(b.find("c")->text, "x+y");
  EXPECT_EQ(b.find("email")->text, "foo@example.com");
  EXPECT_EQ(b.find("u")->text, "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(b.find("a")->kind, Value::Kind::kString);
}

TEST(ParseForm, KeysAreDecodedToo) {
  Body b = parse_ok(kForm, "%61=1&a+b=2");
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->text, "1");
  ASSERT_NE(b.find("a b"), nullptr);
  EXPECT_EQ(b.find("a b")->text, "2");
}

TEST(ParseForm, EveryValueIsAStringEvenNumbersAndBooleans) {
  Body b = parse_ok(kForm, "code=533712&terms_accepted=true&empty=");
  EXPECT_EQ(b.find("code")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("code")->text, "533712");
  EXPECT_EQ(b.find("terms_accepted")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("terms_accepted")->text, "true");
  ASSERT_NE(b.find("empty"), nullptr);
  EXPECT_EQ(b.find("empty")->text, "");
}

TEST(ParseForm, RepeatedKeyLastWins) {
  Body b = parse_ok(kForm, "a=1&b=x&a=2&a=3");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.find("a")->text, "3");
}

TEST(ParseForm, InvalidUtf8IsReplacedWithUFFFD) {
  Body b = parse_ok(kForm, "a=x%FFy&%FE=k");
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->text, "x\xef\xbf\xbdy");
  ASSERT_NE(b.find("\xef\xbf\xbd"), nullptr);
  EXPECT_EQ(b.find("\xef\xbf\xbd")->text, "k");

  // Overlong forms and surrogates are invalid too, and a truncated
  // character is one U+FFFD, as Python's decode(errors="replace") has them.
  Body c = parse_ok(kForm, "o=%C0%80&s=%ED%A0%80&t=%E2%82z");
  EXPECT_EQ(c.find("o")->text, "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(c.find("s")->text, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(c.find("t")->text, "\xef\xbf\xbdz");

  // Valid multi-byte sequences, raw or escaped, are kept.
  Body d = parse_ok(kForm, "a=\xc3\xa9&b=%F0%9F%98%80");
  EXPECT_EQ(d.find("a")->text, "\xc3\xa9");
  EXPECT_EQ(d.find("b")->text, "\xf0\x9f\x98\x80");
}

TEST(ParseForm, MalformedPercentSequencesDoNotFail) {
  Body b = parse_ok(kForm, "a=%zz&b=%4&c=100%");
  ASSERT_NE(b.find("a"), nullptr);
  ASSERT_NE(b.find("b"), nullptr);
  ASSERT_NE(b.find("c"), nullptr);
}

TEST(ParseForm, TheQueryStringIsNeverRead) {
  // cgicc would read QUERY_STRING from the environment; the body parser must
  // give it only the body.
  const char* old = getenv("QUERY_STRING");
  std::string saved = old ? old : "";
  setenv("QUERY_STRING", "injected=1&a=from-query", 1);
  setenv("REQUEST_METHOD", "GET", 1);
  Body b = parse_ok(kForm, "a=from-body");
  Body m = parse_ok("multipart/form-data; boundary=B",
                    "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfrom-body\r\n--B--\r\n");
  if (old) {
    setenv("QUERY_STRING", saved.c_str(), 1);
  } else {
    unsetenv("QUERY_STRING");
  }
  unsetenv("REQUEST_METHOD");
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.find("injected"), nullptr);
  EXPECT_EQ(b.find("a")->text, "from-body");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.find("injected"), nullptr);
  EXPECT_EQ(m.find("a")->text, "from-body");
}

TEST(ParseForm, SemicolonIsNotASeparator) {
  Body b = parse_ok(kForm, "a=1;b=2");
  EXPECT_EQ(b.size(), 1u);
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->text, "1;b=2");
  EXPECT_EQ(b.find("b"), nullptr);
}

// A name with no '=' has the value "", wherever it stands (Django's
// parse_qsl with keep_blank_values; expected values from CPython).
TEST(ParseForm, ANameWithoutEqualsIsBlankAlsoLast) {
  Body last = parse_ok(kForm, "a=1&code");
  ASSERT_NE(last.find("code"), nullptr);
  EXPECT_EQ(last.find("code")->text, "");
  EXPECT_EQ(last.find("a")->text, "1");
  Body first = parse_ok(kForm, "code&a=1");
  ASSERT_NE(first.find("code"), nullptr);
  EXPECT_EQ(first.find("code")->text, "");
  Body alone = parse_ok(kForm, "b");
  ASSERT_NE(alone.find("b"), nullptr);
  EXPECT_EQ(alone.find("b")->text, "");
  Body empty_pairs = parse_ok(kForm, "a=1&&");
  EXPECT_EQ(empty_pairs.size(), 1u);
}

// --- multipart/form-data

const std::string kMultipart =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"email\"\r\n"
    "\r\n"
    "foo@example.com\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "file contents\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "\r\n"
    "line1\r\nline2 1+1%41\r\n"
    "--XyZ--\r\n";

TEST(ParseMultipart, FieldsAreParsedAndFilesIgnored) {
  Body b = parse_ok("multipart/form-data; boundary=XyZ", kMultipart);
  EXPECT_EQ(b.size(), 2u);
  ASSERT_NE(b.find("email"), nullptr);
  EXPECT_EQ(b.find("email")->kind, Value::Kind::kString);
  EXPECT_EQ(b.find("email")->text, "foo@example.com");
  ASSERT_NE(b.find("note"), nullptr);
  // No URL decoding in multipart values.
  EXPECT_EQ(b.find("note")->text, "line1\r\nline2 1+1%41");
  EXPECT_EQ(b.find("upload"), nullptr);
}

TEST(ParseMultipart, BoundaryQuotedOrNotAndParametersInAnyCase) {
  for (const char* ct : {"multipart/form-data; boundary=XyZ", "multipart/form-data; boundary=\"XyZ\"",
                         "Multipart/Form-Data; charset=utf-8; BOUNDARY=XyZ",
                         "multipart/form-data;boundary=XyZ"}) {
    Body b = parse_ok(ct, kMultipart);
    ASSERT_NE(b.find("email"), nullptr) << ct;
    EXPECT_EQ(b.find("email")->text, "foo@example.com") << ct;
  }
}

TEST(ParseMultipart, RepeatedFieldLastWinsAndInvalidUtf8IsReplaced) {
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"u\"\r\n\r\nx\xffy\r\n"
      "--B--\r\n";
  Body b = parse_ok("multipart/form-data; boundary=B", body);
  EXPECT_EQ(b.find("a")->text, "2");
  EXPECT_EQ(b.find("u")->text, "x\xef\xbf\xbdy");
}

TEST(ParseMultipart, MissingOrInvalidBoundaryIs400) {
  for (const char* ct : {"multipart/form-data", "multipart/form-data; boundary=",
                         "multipart/form-data; boundary=\"\"", "multipart/form-data; charset=utf-8"}) {
    Status s = parse_error(ct, kMultipart);
    EXPECT_EQ(s.http_status(), 400) << ct;
    EXPECT_EQ(s.kind(), Status::Kind::kDetail) << ct;
    EXPECT_TRUE(starts_with(s.detail(), "Multipart form parse error - ")) << ct << " -> " << s.detail();
  }
  std::string long_boundary(201, 'b');
  Status s = parse_error("multipart/form-data; boundary=" + long_boundary, kMultipart);
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_TRUE(starts_with(s.detail(), "Multipart form parse error - "));
}

// Garbage never crashes or throws: it is either a 400 multipart error or a
// body without the garbage's fields (as Django's MultiPartParser skips parts
// it cannot read; the handler then reports the missing fields).
void expect_handled(std::string_view content_type, std::string_view body) {
  Result<Body> r = Body();
  ASSERT_NO_THROW(r = parse_body(content_type, body));
  if (!r.ok()) {
    EXPECT_EQ(r.status().http_status(), 400);
    EXPECT_TRUE(starts_with(r.status().detail(), "Multipart form parse error - ")) << r.status().detail();
  }
}

// What parse_body() made of a body, in a word: "parts: N", or the error.
std::string answer(const Result<Body>& r) {
  if (r.ok()) return "parts: " + std::to_string(r->size());
  return std::to_string(r.status().http_status()) + " " + r.status().detail();
}

// Each malformed body has one answer, pinned here: the parts that could be
// read, mostly none; never a crash, and never an error, since a boundary was
// given (without one: ParseMultipart.MissingOrInvalidBoundaryIs400).
TEST(ParseMultipart, GarbageIsHandled) {
  const char* ct = "multipart/form-data; boundary=XyZ";
  const struct {
    std::string body;
    std::string answer;
  } cases[] = {
      {"garbage", "parts: 0"},
      {"--XyZ", "parts: 0"},
      {"--XyZ\r\n", "parts: 0"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "parts: 0"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "parts: 0"},
      {"--XyZ\r\n\r\n\r\n--XyZ--", "parts: 0"},
      {"--XyZ--XyZ--XyZ", "parts: 0"},
      {std::string("\0\0\0--XyZ--", 10), "parts: 0"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--\r\n", "parts: 1"},
      {std::string(1000, '-'), "parts: 0"},
      {"\r\n\r\n\r\n\r\n", "parts: 0"},
  };
  for (const auto& c : cases) {
    Result<Body> r = Body();
    ASSERT_NO_THROW(r = parse_body(ct, c.body));
    EXPECT_EQ(answer(r), c.answer) << ::testing::PrintToString(c.body);
  }
  // A body that uses another boundary has no readable parts either.
  Result<Body> other = parse_body("multipart/form-data; boundary=other", kMultipart);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->size(), 0u);
}

TEST(ParseMultipart, EveryTruncationOfAValidBodyIsHandled) {
  for (size_t n = 0; n <= kMultipart.size(); ++n)
    expect_handled("multipart/form-data; boundary=XyZ", std::string_view(kMultipart).substr(0, n));
}

TEST(ParseMultipart, EveryByteFlipOfAValidBodyIsHandled) {
  for (size_t i = 0; i < kMultipart.size(); ++i) {
    std::string mutated = kMultipart;
    mutated[i] = static_cast<char>(mutated[i] ^ 0x5a);
    expect_handled("multipart/form-data; boundary=XyZ", mutated);
  }
}

// --- Body

TEST(Body, SetReplacesInPlaceAndFindIsExact) {
  Body b;
  b.set("a", Value{Value::Kind::kString, "1", false});
  b.set("b", Value{Value::Kind::kNumber, "2", false});
  b.set("a", Value{Value::Kind::kBool, "", true});
  EXPECT_EQ(b.size(), 2u);
  ASSERT_NE(b.find("a"), nullptr);
  EXPECT_EQ(b.find("a")->kind, Value::Kind::kBool);
  EXPECT_TRUE(b.find("a")->boolean);
  EXPECT_EQ(b.find("A"), nullptr);
  EXPECT_EQ(b.find("a "), nullptr);
}

}  // namespace
}  // namespace cpa::http
