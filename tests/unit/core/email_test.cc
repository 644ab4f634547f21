#include "core/email.h"

#include <gtest/gtest.h>

#include <string>

namespace cpa {
namespace {

// Expected values follow Django's EmailValidator (user_regex, domain_regex,
// literal_regex and the "localhost" allowlist), checked against its regexes.

TEST(IsValidEmail, AcceptsWhatDjangoAccepts) {
  for (const char* ok : {
           "email@here.com",
           "user+tag@example.com",
           "first.last@example.com",
           "weirder-email@here.and.there.com",
           "a@b.co",
           "UPPER@EXAMPLE.COM",
           "1234567890@example.com",
           "user@123.example.com",
           "a@1.23",                       // digits-only labels and TLD
           "example@valid-----hyphens.com",
           "example@valid-with-hyphens.com",
           "a@b.c0m",
           "!#$%&'*+-/=?^_`{|}~@example.com",  // every atext character
           "\"test@test\"@example.com",    // quoted local part with an @
           "\"john..doe\"@example.com",     // dots are free inside quotes
           "\"\"@example.com",              // empty quoted string
           "\"a\\\"b\"@example.com",        // escaped quote
           "\"a\\ b\"@example.com",         // escaped space
           "\"\\\t\"@here.com",             // escaped tab
           "email@localhost",
           "email@[127.0.0.1]",
           "email@[255.255.255.255]",
       }) {
    EXPECT_TRUE(is_valid_email(ok)) << ok;
  }
}

TEST(IsValidEmail, LabelAndTldLengths) {
  EXPECT_TRUE(is_valid_email("a@" + std::string(63, 'a') + ".us"));
  EXPECT_FALSE(is_valid_email("a@" + std::string(64, 'a') + ".us"));
  EXPECT_TRUE(is_valid_email("example@atm." + std::string(63, 'a')));
  EXPECT_FALSE(is_valid_email("example@atm." + std::string(64, 'a')));
  EXPECT_TRUE(is_valid_email("example@" + std::string(63, 'a') + "." + std::string(10, 'b') + ".atm"));
  EXPECT_FALSE(is_valid_email("example@" + std::string(64, 'b') + ".atm." + std::string(63, 'a')));
}

TEST(IsValidEmail, TldMayStartWithAHyphenButNotEndWithOne) {
  // domain_regex's TLD is [A-Z0-9-]{2,63}(?<!-): a leading '-' is allowed.
  EXPECT_TRUE(is_valid_email("a@b.-com"));
  EXPECT_TRUE(is_valid_email("a@b.c-m"));
  EXPECT_FALSE(is_valid_email("example@invalid.com-"));
  EXPECT_FALSE(is_valid_email("a@b.co-"));
}

TEST(IsValidEmail, RejectsWhatDjangoRejects) {
  for (std::string bad : {
           std::string(""),
           std::string("abc"),
           std::string("abc@"),
           std::string("@example.com"),
           std::string("abc@bar"),                 // no TLD
           std::string("a @x.cz"),                 // space in the local part
           std::string("a@x .cz"),                 // space in the domain
           std::string(" a@x.cz"),                 // not trimmed here
           std::string("abc@.com"),                // empty label
           std::string("a@b..com"),
           std::string("something@@somewhere.com"),
           std::string("a..b@example.com"),        // two dots
           std::string(".a@example.com"),          // leading dot
           std::string("a.@example.com"),          // trailing dot
           std::string("a@b.c"),                   // single-letter TLD
           std::string("email@127.0.0.1"),         // IP without brackets
           std::string("email@[127.0.0.256]"),
           std::string("email@[01.2.3.4]"),
           std::string("email@[1.2.3]"),
           std::string("email@[]"),
           std::string("example@invalid-.com"),
           std::string("example@-invalid.com"),
           std::string("example@inv-.alid-.com"),
           std::string("example@inv-.-alid.com"),
           std::string("trailingdot@shouldfail.com."),
           std::string("a@b.com\n"),               // trailing newline (\Z, not $)
           std::string("a\n@b.com"),
           std::string("\"test@test\"\n@example.com"),
           std::string("a@[127.0.0.1]\n"),
           std::string("test@example.com\n\n<script src=\"x.js\">"),
           std::string("\"\\\n\"@here.com"),        // escaped LF is not allowed
           std::string("\"a\"b\"@here.com"),        // unescaped quote
           std::string("\"abc@here.com"),           // unterminated quote
           std::string("\"\\\"@here.com"),          // the escape eats the closing quote
           std::string("j\xc3\xb6rg@example.com"),  // non-ASCII local part
           std::string("a@exa_mple.com"),
           std::string("a(comment)@example.com"),
           std::string("a@b.com@"),
           std::string("a\0b@example.com", 15),
       }) {
    EXPECT_FALSE(is_valid_email(bad)) << "'" << bad << "'";
  }
}

TEST(IsValidEmail, NoIdnSupport) {
  // Django punycodes an IDN domain and may accept it; this service does not.
  EXPECT_FALSE(is_valid_email("test@\xc3\xa9xample.com"));
}

TEST(IsValidEmail, OverallLengthLimit) {
  // 64 + 1 + 253 = 318: within Django's 320.
  std::string domain = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                       std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(domain.size(), 253u);
  EXPECT_TRUE(is_valid_email(std::string(64, 'x') + "@" + domain));
  EXPECT_FALSE(is_valid_email(std::string(400, 'x') + "@example.com"));
}

TEST(IsValidEmail, QuotedLocalPartCharactersAsDjango) {
  EXPECT_FALSE(is_valid_email("\"a b\"@example.com"));
  EXPECT_FALSE(is_valid_email("\"a\tb\"@example.com"));
  EXPECT_TRUE(is_valid_email("\"a\x01" "b\"@example.com"));
  EXPECT_TRUE(is_valid_email("\"a\x7f" "b\"@example.com"));
}

TEST(IsValidEmail, Ipv6LiteralsAsDjango) {
  EXPECT_TRUE(is_valid_email("email@[::1]"));
  EXPECT_TRUE(is_valid_email("email@[2001:dB8::1]"));
  EXPECT_TRUE(is_valid_email("email@[2001:dB8:0:0:0:0:0:1]"));
  EXPECT_TRUE(is_valid_email("email@[::fffF:127.0.0.1]"));
  EXPECT_FALSE(is_valid_email("email@[IPv6:2001:db8::1]"));
  EXPECT_FALSE(is_valid_email("email@[2001:db8::12345]"));
  EXPECT_FALSE(is_valid_email("email@[2001:db8:0:0:0:0:1]"));
  EXPECT_FALSE(is_valid_email("email@[2001:dg8::1]"));
}

TEST(IsValidEmail, NoDomainLengthLimitBeyondDjangos) {
  std::string domain = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                       std::string(63, 'c') + "." + std::string(63, 'd') + ".com";
  ASSERT_GT(domain.size(), 253u);
  EXPECT_TRUE(is_valid_email("a@" + domain));
}

TEST(DisplayEmail, LowerCasesTheDomainOnly) {
  EXPECT_EQ(display_email("Foo@Example.COM"), "Foo@example.com");
  EXPECT_EQ(display_email("foo@example.com"), "foo@example.com");
  EXPECT_EQ(display_email("\"A@B\"@EXAMPLE.com"), "\"A@B\"@example.com");
  EXPECT_EQ(display_email("NoAt"), "NoAt");
}

TEST(EmailKey, LowerCasesEverything) {
  EXPECT_EQ(email_key("Foo@Example.COM"), "foo@example.com");
  EXPECT_EQ(email_key("foo@example.com"), "foo@example.com");
  EXPECT_EQ(email_key(display_email("Foo@Example.COM")), email_key("FOO@example.com"));
}

}  // namespace
}  // namespace cpa
