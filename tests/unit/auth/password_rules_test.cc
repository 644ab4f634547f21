#include "auth/password_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/random.h"

namespace cpa::auth {
namespace {

using Messages = std::vector<std::string>;

constexpr const char* kEmail = "grigoryan021201@gmail.com";

// Expected values below come from CPython 3.11: difflib.SequenceMatcher and
// Django 4.2's UserAttributeSimilarityValidator logic, replicated in Python.

TEST(PasswordRulesQuickRatio, MatchesDifflib) {
  EXPECT_DOUBLE_EQ(quick_ratio("abcd", "bcde"), 0.75);
  EXPECT_DOUBLE_EQ(quick_ratio("", ""), 1.0);
  EXPECT_DOUBLE_EQ(quick_ratio("a", ""), 0.0);
  EXPECT_DOUBLE_EQ(quick_ratio("grigoryan0212", "grigoryan021201"), 0.9285714285714286);
  EXPECT_DOUBLE_EQ(quick_ratio("gago123@", "gmail"), 0.3076923076923077);
  EXPECT_DOUBLE_EQ(quick_ratio("aab", "abb"), 0.6666666666666666);
  // Code points, not bytes: over bytes this would be 12/15 = 0.8.
  EXPECT_DOUBLE_EQ(quick_ratio("l\xc3\xa8tmein", "letmein"), 0.8571428571428571);
  // Case matters here; lower-casing is the validator's job.
  EXPECT_DOUBLE_EQ(quick_ratio("ABC", "abc"), 0.0);
}

TEST(PasswordRules, SimilarityMatchesDjango) {
  struct Case {
    const char* password;
    bool similar;
  };
  const Case cases[] = {
      {"Gago123@", false},         // best part ratio 0.52
      {"grigoryan021201", true},   // 1.0 against the local part
      {"Grigoryan0212", true},     // 0.93
      {"GRIGORYAN", true},         // 0.75
      {"nayrogirg", true},         // order does not matter to quick_ratio
      {"0212grig", false},         // 0.6957: just under 0.7
      {"gmail.com1", false},       // 0.667
      {"Gmail123", true},          // 0.769 against "gmail"
      {"gagik.grigoryan", false},  // 0.65
      {"com", true},               // 1.0 against "com"
      {"c", false},
      {"gm", false},
      {"Xk9#mPq2vL", false},
      {"grigoryan021201@gmail.com", true},
      {"gmailgmailgmailgmailgmail", false},
      {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(too_similar(c.password, kEmail), c.similar) << c.password;
}

TEST(PasswordRules, SimilarityEdgeCases) {
  // re.split leaves an empty part after a trailing '.', and only an empty
  // password is "similar" to it (quick_ratio("", "") == 1.0).
  EXPECT_TRUE(too_similar("", "a@b."));
  EXPECT_TRUE(too_similar("a", "a@b."));
  EXPECT_FALSE(too_similar("x", "a@b."));
  // Django skips empty attributes.
  EXPECT_FALSE(too_similar("", ""));
  // Python lower-cases KELVIN SIGN (U+212A) to an ASCII 'k'.
  EXPECT_TRUE(too_similar("\xe2\x84\xaa" "elvin01", "kelvin@x.io"));
  // Non-ASCII alphabets are lower-cased too.
  const char* ivan_upper = "\xd0\x98\xd0\x92\xd0\x90\xd0\x9d";  // ИВАН
  EXPECT_TRUE(too_similar(ivan_upper, "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@x.io"));
}

TEST(PasswordRules, EachRuleAlone) {
  EXPECT_EQ(password_problems("Gago123@", kEmail), Messages{});
  EXPECT_EQ(password_problems("Xk9#mPq2", "a@b.io"), Messages{});
  EXPECT_EQ(password_problems("grigoryan021201", kEmail), Messages{password_msg::kTooSimilar});
  EXPECT_EQ(password_problems("Xk9#mPq", "a@b.io"), Messages{password_msg::kTooShort});
  EXPECT_EQ(password_problems("Password ", "a@b.io"), Messages{password_msg::kTooCommon});
  EXPECT_EQ(password_problems("98765432109", "a@b.io"), Messages{password_msg::kNumeric});
}

TEST(PasswordRules, SeveralInDjangosOrder) {
  EXPECT_EQ(password_problems("1234", "1234@example.com"),
            (Messages{password_msg::kTooSimilar, password_msg::kTooShort,
                      password_msg::kTooCommon, password_msg::kNumeric}));
  EXPECT_EQ(password_problems("1234", kEmail),
            (Messages{password_msg::kTooShort, password_msg::kTooCommon, password_msg::kNumeric}));
  EXPECT_EQ(password_problems("abc", "abc@x.io"),
            (Messages{password_msg::kTooSimilar, password_msg::kTooShort,
                      password_msg::kTooCommon}));
  EXPECT_EQ(password_problems("12345678", "zz@x.io"),
            (Messages{password_msg::kTooCommon, password_msg::kNumeric}));
  EXPECT_EQ(password_problems("jessica1", "jessica@x.io"),
            (Messages{password_msg::kTooSimilar, password_msg::kTooCommon}));
}

TEST(PasswordRules, LengthCountsCodePoints) {
  // 7 code points in 8 bytes: too short; 8 code points in 9 bytes: long enough.
  EXPECT_EQ(password_problems("l\xc3\xa8tmein", "a@b.io"), Messages{password_msg::kTooShort});
  EXPECT_EQ(password_problems("l\xc3\xa8tmein1", "a@b.io"), Messages{});
}

TEST(PasswordRules, NumericMeansAsciiDigitsOnly) {
  EXPECT_EQ(password_problems("", "a@b.io"), Messages{password_msg::kTooShort});
  EXPECT_EQ(password_problems("98765432109x", "a@b.io"), Messages{});
  EXPECT_EQ(password_problems(" 98765432109", "a@b.io"), Messages{});
}

TEST(CommonPassword, ListedPasswordsAreFound) {
  EXPECT_TRUE(is_common_password("password"));
  EXPECT_TRUE(is_common_password("Password "));
  EXPECT_TRUE(is_common_password("PASSWORD"));
  EXPECT_TRUE(is_common_password("\tpassword\n"));
  // Python's strip() knows Unicode spaces: NBSP and IDEOGRAPHIC SPACE.
  EXPECT_TRUE(is_common_password("\xc2\xa0password\xe3\x80\x80"));
  // KELVIN SIGN + "iller12" lower-cases to "killer12".
  EXPECT_TRUE(is_common_password("\xe2\x84\xaa" "iller12"));
  // First and last lines of the embedded file (the last has no newline).
  EXPECT_TRUE(is_common_password("bigpimpin1"));
  EXPECT_TRUE(is_common_password("chobits"));
}

TEST(CommonPassword, OthersAreNot) {
  SystemRng rng;
  EXPECT_FALSE(is_common_password(rng.alphanumeric(20)));
  EXPECT_FALSE(is_common_password("Gago123@"));
  EXPECT_FALSE(is_common_password(""));
  EXPECT_FALSE(is_common_password("pass word"));
  EXPECT_FALSE(is_common_password("passwor"));
  EXPECT_FALSE(is_common_password("password1234567890"));
}

}  // namespace
}  // namespace cpa::auth
