#include "http/request.h"
#include "http/body.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cpa::http {
namespace {

TEST(IsSaneRequestId, AcceptsOneTo128AllowedCharacters) {
  EXPECT_TRUE(is_sane_request_id("a"));
  EXPECT_TRUE(is_sane_request_id("0"));
  EXPECT_TRUE(is_sane_request_id("abc-DEF_123.xyz:9"));
  EXPECT_TRUE(is_sane_request_id("3f2a1c9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c"));
  EXPECT_TRUE(is_sane_request_id(std::string(128, 'x')));
  EXPECT_TRUE(is_sane_request_id("...---:::___"));
}

TEST(IsSaneRequestId, RejectsEmptyTooLongAndOtherCharacters) {
  EXPECT_FALSE(is_sane_request_id(""));
  EXPECT_FALSE(is_sane_request_id(std::string(129, 'x')));
  for (const char* bad : {"a b", "a/b", "a\\b", "a\nb", "a\rb", "a\tb", "a\"b", "a<b>", "a;b", "a,b",
                          "a+b", "a%20b", "a=b", "caf\xc3\xa9", "a\x7f"}) {
    EXPECT_FALSE(is_sane_request_id(bad)) << bad;
  }
  EXPECT_FALSE(is_sane_request_id(std::string("a\0b", 3)));
}

TEST(UrlDecode, PercentAndPlus) {
  EXPECT_EQ(url_decode(""), "");
  EXPECT_EQ(url_decode("abc"), "abc");
  EXPECT_EQ(url_decode("a+b"), "a b");
  EXPECT_EQ(url_decode("%41%42"), "AB");
  EXPECT_EQ(url_decode("%2B"), "+");
  EXPECT_EQ(url_decode("foo%40example.com"), "foo@example.com");
  EXPECT_EQ(url_decode("%c3%A9"), "\xc3\xa9");
  EXPECT_EQ(url_decode("%00"), std::string("\0", 1));
  EXPECT_EQ(url_decode("%25"), "%");
  EXPECT_EQ(url_decode("%2541"), "%41");  // decoded once only
}

TEST(UrlDecode, BadPercentSequencesAreKeptLiterally) {
  EXPECT_EQ(url_decode("%"), "%");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%4"), "%4");
  EXPECT_EQ(url_decode("a%4"), "a%4");
  EXPECT_EQ(url_decode("%zz"), "%zz");
  EXPECT_EQ(url_decode("%4g"), "%4g");
  EXPECT_EQ(url_decode("%g4"), "%g4");
  EXPECT_EQ(url_decode("%%41"), "%A");
  EXPECT_EQ(url_decode("%+1"), "% 1");
}

// query_param: nullopt when absent (the header changed from "" to nullopt),
// "" for a present key without a value.
TEST(QueryParam, ValuesAndDecoding) {
  Request r;
  r.query = "page=2&email=foo%40example.com&q=a+b&empty=&flag";
  EXPECT_EQ(r.query_param("page"), "2");
  EXPECT_EQ(r.query_param("email"), "foo@example.com");
  EXPECT_EQ(r.query_param("q"), "a b");
  EXPECT_EQ(r.query_param("empty"), "");
  EXPECT_EQ(r.query_param("flag"), "");
}

// The query string is read by the form parser, as Django reads both with
// QueryDict: ';' is no separator, bad UTF-8 becomes U+FFFD, and a query and
// a form body with the same text give the same pairs.
TEST(QueryParam, ReadLikeAFormBody) {
  Request r;
  r.query = "limit=2;offset=4&name=%ff&limit=3";
  EXPECT_EQ(r.query_param("limit"), "3");
  EXPECT_EQ(r.query_param("offset"), std::nullopt);
  EXPECT_EQ(r.query_param("name"), "\xEF\xBF\xBD");
  EXPECT_EQ(r.query_params(), parse_urlencoded(r.query));
  EXPECT_EQ(r.query_params().front(), (std::pair<std::string, std::string>("limit", "2;offset=4")));
}

TEST(QueryParam, AbsentIsNullopt) {
  Request r;
  EXPECT_EQ(r.query_param("page"), std::nullopt);
  r.query = "pages=2&apage=3&page_size=4";
  EXPECT_EQ(r.query_param("page"), std::nullopt);
  EXPECT_EQ(r.query_param(""), std::nullopt);
}

TEST(QueryParam, LastValueWins) {
  Request r;
  r.query = "page=1&other=x&page=2&page=3";
  EXPECT_EQ(r.query_param("page"), "3");
  r.query = "page=1&page";
  EXPECT_EQ(r.query_param("page"), "");
  r.query = "page=1&page=";
  EXPECT_EQ(r.query_param("page"), "");
}

TEST(QueryParam, KeysAreDecodedAndOnlyTheFirstEqualsSplits) {
  Request r;
  r.query = "p%61ge=5&a+b=c&x=1=2";
  EXPECT_EQ(r.query_param("page"), "5");
  EXPECT_EQ(r.query_param("a b"), "c");
  EXPECT_EQ(r.query_param("x"), "1=2");
}

TEST(QueryParam, EmptyPiecesAreSkipped) {
  Request r;
  r.query = "&&page=7&&";
  EXPECT_EQ(r.query_param("page"), "7");
  EXPECT_EQ(r.query_param(""), std::nullopt);
}

TEST(QueryParams, EveryPairDecodedInOrder) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  Request r;
  EXPECT_EQ(r.query_params(), Pairs{});
  r.query = "b=2&a=1&&b=3&flag&e%3Dq=%26";
  EXPECT_EQ(r.query_params(), (Pairs{{"b", "2"}, {"a", "1"}, {"b", "3"}, {"flag", ""}, {"e=q", "&"}}));
}

TEST(RequestHeader, LooksUpLowerCasedNames) {
  Request r;
  r.headers = {{"authorization", "Bearer x"}, {"x-request-id", "abc"}};
  ASSERT_NE(r.header("authorization"), nullptr);
  EXPECT_EQ(*r.header("authorization"), "Bearer x");
  ASSERT_NE(r.header("x-request-id"), nullptr);
  EXPECT_EQ(*r.header("x-request-id"), "abc");
  EXPECT_EQ(r.header("cookie"), nullptr);
}

}  // namespace
}  // namespace cpa::http
