#include "core/log.h"

#include <gtest/gtest.h>

#include <string>

namespace cpa::log {
namespace {

TEST(LogEscape, KeepsPrintableTextAndWellFormedUtf8) {
  EXPECT_EQ(escape(""), "");
  EXPECT_EQ(escape("/api/v1/auth/users/me/"), "/api/v1/auth/users/me/");
  const std::string utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ~";
  EXPECT_EQ(escape(utf8), utf8);
}

// What nginx hands over decoded from %0a, %0d, %1b: a forged second line,
// a terminal escape sequence.
TEST(LogEscape, ControlBytesBecomeHex) {
  EXPECT_EQ(escape("/a\n2026-01-01T00:00:00Z fake[1] info forged"),
            "/a\\x0a2026-01-01T00:00:00Z fake[1] info forged");
  EXPECT_EQ(escape("\r\x1b[31m\t"), "\\x0d\\x1b[31m\\x09");
  EXPECT_EQ(escape(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escape("\x7f"), "\\x7f");
  EXPECT_EQ(escape("\x1f \x20"), "\\x1f  ");
}

// U+0085 (NEL) and U+009B (CSI) are C1 controls that some terminals obey.
TEST(LogEscape, C1ControlsBecomeTheirUtf8BytesInHex) {
  EXPECT_EQ(escape("\xc2\x85"), "\\xc2\\x85");
  EXPECT_EQ(escape("\xc2\x9b" "31m"), "\\xc2\\x9b31m");
  EXPECT_EQ(escape("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is printable
}

TEST(LogEscape, BytesOutsideUtf8BecomeHex) {
  EXPECT_EQ(escape("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(escape("\xc3"), "\\xc3");                      // cut short
  EXPECT_EQ(escape("\xe2\x82" "A"), "\\xe2\\x82A");
  EXPECT_EQ(escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");    // a surrogate
  EXPECT_EQ(escape("\xc0\xaf"), "\\xc0\\xaf");             // overlong
}

// The backslash is escaped too, so that "\x0a" sent as four characters
// cannot pass for an escaped newline.
TEST(LogEscape, BackslashIsEscapedSoTheOutputIsUnambiguous) {
  EXPECT_EQ(escape("\\x0a"), "\\x5cx0a");
  EXPECT_NE(escape("\\x0a"), escape("\n"));
}

// Every byte value in a row: the bytes above 0x7f form no well-formed
// sequence here, so what comes out is printable ASCII only.
TEST(LogEscape, EveryByteComesOutPrintable) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  for (unsigned char c : escape(every_byte)) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace cpa::log
