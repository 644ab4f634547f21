#include "auth/password.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

namespace cpa::auth {
namespace {

// Django 3.2 hashes (make_password with a fixed salt).
constexpr const char* kGagoAt600000 =
    "pbkdf2_sha256$600000$Xx7Qm2Lp9Rt4Vb8Nc1Dz5K$BdIC9Pp12RbkAlfYs4X8FO108/HMPtcOEoA3cMyj3FM=";
constexpr const char* kGagoAt1000 =
    "pbkdf2_sha256$1000$Xx7Qm2Lp9Rt4Vb8Nc1Dz5K$mNiIQVFLR0HYbvozRKAopXjQS5kKhIzmFPw8ib0XnHY=";
constexpr const char* kLetmeinAt260000 =
    "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";

// Replays the same byte over and over: a salt drawn from it is predictable.
class ConstantRng final : public Rng {
 public:
  explicit ConstantRng(uint8_t byte) : byte_(byte) {}
  void fill(uint8_t* out, size_t n) override {
    for (size_t i = 0; i < n; ++i) out[i] = byte_;
  }

 private:
  uint8_t byte_;
};

TEST(PasswordHash, DjangoVectorAt600000Verifies) {
  PasswordCheck check = check_password("Gago123@", kGagoAt600000, 600000);
  EXPECT_TRUE(check.ok);
  EXPECT_FALSE(check.needs_rehash);
}

TEST(PasswordHash, DjangoVectorAt1000VerifiesAndNeedsRehash) {
  PasswordCheck check = check_password("Gago123@", kGagoAt1000, 600000);
  EXPECT_TRUE(check.ok);
  EXPECT_TRUE(check.needs_rehash);

  check = check_password("Gago123@", kGagoAt1000, 1000);
  EXPECT_TRUE(check.ok);
  EXPECT_FALSE(check.needs_rehash);
}

TEST(PasswordHash, DjangoVectorWithUtf8PasswordVerifies) {
  PasswordCheck check = check_password("l\xc3\xa8tmein", kLetmeinAt260000, 260000);
  EXPECT_TRUE(check.ok);
  EXPECT_FALSE(check.needs_rehash);
}

TEST(PasswordHash, HashWithSaltReproducesDjango) {
  EXPECT_EQ(hash_password_with_salt("Gago123@", "Xx7Qm2Lp9Rt4Vb8Nc1Dz5K", 1000), kGagoAt1000);
}

TEST(PasswordHash, WrongPasswordFails) {
  for (const char* wrong : {"gago123@", "Gago123", "Gago123@ ", "", "Gago123@Gago123@"}) {
    PasswordCheck check = check_password(wrong, kGagoAt1000, 600000);
    EXPECT_FALSE(check.ok) << wrong;
    EXPECT_FALSE(check.needs_rehash) << wrong;  // only a match is ever rehashed
  }
  // Latin-1 bytes of the same text are a different password.
  EXPECT_FALSE(check_password("l\xe8tmein", kLetmeinAt260000, 1).ok);
}

TEST(PasswordHash, MalformedOrUnusableHashesNeverMatch) {
  const std::string salt = "Xx7Qm2Lp9Rt4Vb8Nc1Dz5K";
  const std::string key = "mNiIQVFLR0HYbvozRKAopXjQS5kKhIzmFPw8ib0XnHY=";
  const std::vector<std::string> malformed = {
      "",
      "pbkdf2_sha256$",
      "pbkdf2_sha256$abc$salt$x",
      "pbkdf2_sha256$1000$" + salt,
      "md5$" + salt + "$5f4dcc3b5aa765d61d8327deb882cf99",
      "pbkdf2_sha1$1000$" + salt + "$" + key,
      "PBKDF2_SHA256$1000$" + salt + "$" + key,
      "pbkdf2_sha256$1000000000$" + salt + "$" + key,
      "pbkdf2_sha256$100000001$" + salt + "$" + key,
      "pbkdf2_sha256$99999999999999999999$" + salt + "$" + key,
      "pbkdf2_sha256$0$" + salt + "$" + key,
      "pbkdf2_sha256$-1000$" + salt + "$" + key,
      "pbkdf2_sha256$+1000$" + salt + "$" + key,
      "pbkdf2_sha256$ 1000$" + salt + "$" + key,
      "pbkdf2_sha256$01000$" + salt + "$" + key,  // Django compares the text: never matches
      "pbkdf2_sha256$1000$$" + key,
      "pbkdf2_sha256$1000$" + salt + "$",
      "pbkdf2_sha256$1000$" + salt + "$" + key + "=",
      "pbkdf2_sha256$1000$" + salt + "$" + key + " ",
      "pbkdf2_sha256$1000$" + salt + "$" + key.substr(0, 43),
      "pbkdf2_sha256$1000$" + salt + "$" + key.substr(0, 42) + "$=",
      "!unusable",
      std::string("!") + kGagoAt1000,
      "!",
  };
  for (const std::string& encoded : malformed) {
    ParsedHash parsed;
    EXPECT_FALSE(parse_password_hash(encoded, &parsed)) << encoded;
    // A small current cost: a malformed hash burns one check at that cost.
    PasswordCheck check = check_password("Gago123@", encoded, 1);
    EXPECT_FALSE(check.ok) << encoded;
    EXPECT_FALSE(check.needs_rehash) << encoded;
  }
}

TEST(PasswordHash, ParseSplitsTheFields) {
  ParsedHash parsed;
  ASSERT_TRUE(parse_password_hash(kGagoAt1000, &parsed));
  EXPECT_EQ(parsed.algorithm, "pbkdf2_sha256");
  EXPECT_EQ(parsed.iterations, 1000);
  EXPECT_EQ(parsed.salt, "Xx7Qm2Lp9Rt4Vb8Nc1Dz5K");
  EXPECT_EQ(parsed.hash, "mNiIQVFLR0HYbvozRKAopXjQS5kKhIzmFPw8ib0XnHY=");

  ASSERT_TRUE(parse_password_hash("pbkdf2_sha256$100000000$s$" + std::string(43, 'A') + "=",
                                  &parsed));
  EXPECT_EQ(parsed.iterations, 100000000);
}

TEST(PasswordHash, RoundTripWithRandomSalt) {
  SystemRng rng;
  const std::string encoded = hash_password("correct horse", 1000, rng);
  ParsedHash parsed;
  ASSERT_TRUE(parse_password_hash(encoded, &parsed)) << encoded;
  EXPECT_EQ(parsed.iterations, 1000);
  ASSERT_EQ(parsed.salt.size(), 22u);
  for (char c : parsed.salt) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;

  EXPECT_TRUE(check_password("correct horse", encoded, 1000).ok);
  EXPECT_TRUE(check_password("correct horse", encoded, 2000).needs_rehash);
  EXPECT_FALSE(check_password("correct horsE", encoded, 1000).ok);

  // Two hashes of one password differ by their salt.
  EXPECT_NE(hash_password("correct horse", 1000, rng), encoded);
}

TEST(PasswordHash, SaltComesFromTheRng) {
  ConstantRng zeros(0);
  // Byte 0 is index 0 of the alphabet: 'a'.
  const std::string encoded = hash_password("pw", 1, zeros);
  EXPECT_EQ(encoded, hash_password_with_salt("pw", std::string(22, 'a'), 1));
  EXPECT_TRUE(check_password("pw", encoded, 1).ok);
}

TEST(PasswordHash, BadSaltOrCostGivesAnUnusableHash) {
  EXPECT_EQ(hash_password_with_salt("pw", "", 1000), "");
  EXPECT_EQ(hash_password_with_salt("pw", "a$b", 1000), "");
  EXPECT_EQ(hash_password_with_salt("pw", "salt", 0), "");
  EXPECT_EQ(hash_password_with_salt("pw", "salt", -5), "");
  EXPECT_FALSE(check_password("pw", "", 1).ok);
}

// The burn is the derivation of a real check, at the cost asked (clamped to
// a valid one): the hash it made is a Django hash of that password at that
// count, which check_password accepts.
TEST(PasswordHash, BurnPasswordCheckDerivesAtTheCostAsked) {
  const std::string burnt = burn_password_check("anything", 1000);
  EXPECT_TRUE(burnt.starts_with("pbkdf2_sha256$1000$")) << burnt;
  EXPECT_TRUE(check_password("anything", burnt, 1000).ok);
  EXPECT_FALSE(check_password("anything else", burnt, 1000).ok);
  EXPECT_TRUE(burn_password_check("", 1).starts_with("pbkdf2_sha256$1$"));
  for (int bad : {0, -7}) {  // clamped, not an error
    const std::string clamped = burn_password_check("x", bad);
    EXPECT_TRUE(clamped.starts_with("pbkdf2_sha256$1$")) << clamped;
    EXPECT_TRUE(check_password("x", clamped, 1).ok);
  }
}

}  // namespace
}  // namespace cpa::auth
