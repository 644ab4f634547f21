#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace cpa {
namespace {

TEST(Utf8, AcceptsEveryWellFormedLength) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));          // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
}

TEST(Utf8, RefusesWhatRfc3629Forbids) {
  for (const char* bad : {"\xff", "\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf",
                          "\xed\xa0\x80",        // U+D800, a high surrogate
                          "\xed\xb0\x80",        // U+DC00, a low surrogate (CESU-8)
                          "\xf4\x90\x80\x80",    // past U+10FFFF
                          "\xe2\x82", "a\xe2\x82\xacz\xc3"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

// Expected values from CPython: bytes.decode("utf-8", errors="replace").
TEST(Utf8, ReplacementMatchesPythonMaximalSubparts) {
  const std::string r = "\xef\xbf\xbd";
  const std::pair<std::string, std::string> cases[] = {
      {"a\xff" "b", "a" + r + "b"},
      {"\xe2\x82", r},                      // a truncated character: one
      {"\xe2\x82" "A", r + "A"},
      {"\xf0\x9f\x98", r},
      {"\xed\xa0\x80", r + r + r},            // a surrogate: ED takes 80..9F only
      {"\xc0\xaf", r + r},                    // C0 never starts a character
      {"\xf4\x90\x80\x80", r + r + r + r},    // past U+10FFFF
      {"\xe0\x80\xaf", r + r + r},            // overlong
      {"\xf0\x80", r + r},
      {"\xff\xfe", r + r},
      {"a\xe2\x82\xacz\xc3", "a\xe2\x82\xacz" + r},
      {"\xc3\xa9\xe2\x82", "\xc3\xa9" + r},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(replace_invalid_utf8(in), out) << in;
    EXPECT_TRUE(is_valid_utf8(replace_invalid_utf8(in)));
  }
}

// Expected values from CPython: str.strip() and str.isspace().
TEST(Utf8, StripPythonWhitespaceTakesUnicodeSpaces) {
  EXPECT_EQ(strip_python_whitespace(" \t\n a b \r\x0b\x0c"), "a b");
  EXPECT_EQ(strip_python_whitespace("\xc2\xa0\xe3\x80\x80x\xe2\x80\xa9\x1c"), "x");
  EXPECT_EQ(strip_python_whitespace("\xc2\x85x\xe2\x80\x8b"), "x\xe2\x80\x8b");  // U+200B is no space
  EXPECT_EQ(strip_python_whitespace("\xe3\x80\x80 \xc2\xa0"), "");
  EXPECT_EQ(strip_python_whitespace(""), "");
  EXPECT_EQ(strip_python_whitespace("\xff x \xff"), "\xff x \xff");
}

TEST(Utf8, NextCodePointEscapesBadBytesOneByOne) {
  const std::string s = "a\xc3\xa9\xe2\x82\xf0\x9f\x98\x80";
  std::u32string cps;
  for (size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, &i));
  EXPECT_EQ(cps, (std::u32string{U'a', 0xE9, 0xDCE2, 0xDC82, 0x1F600}));
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("h\xc3\xa9llo\xe2\x82\xac"), 6u);
  EXPECT_EQ(utf8_length("\xf0\x9f\x98\x80"), 1u);
}

TEST(Utf8, PrefixCountsCodePointsNotBytes) {
  const std::string s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";  // a é € 😀 z
  EXPECT_EQ(utf8_prefix(s, 0), "");
  EXPECT_EQ(utf8_prefix(s, 1), "a");
  EXPECT_EQ(utf8_prefix(s, 2), "a\xc3\xa9");
  EXPECT_EQ(utf8_prefix(s, 3), "a\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(utf8_prefix(s, 4), "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(utf8_prefix(s, 5), s);
  EXPECT_EQ(utf8_prefix(s, 99), s);
  EXPECT_EQ(utf8_prefix("", 3), "");
  // A truncated sequence is one code point a byte.
  EXPECT_EQ(utf8_prefix("\xe2\x82x", 1), "\xe2");
  EXPECT_EQ(utf8_prefix("\xe2\x82x", 2), "\xe2\x82");
}

}  // namespace
}  // namespace cpa
