#include "auth/codes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "auth/keys.h"

namespace cpa::auth {
namespace {

std::string hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Hands out a fixed list of 32-bit values, one per 4-byte fill, and counts
// the draws: it shows which values uniform() kept and which it threw away.
class ScriptedRng final : public Rng {
 public:
  explicit ScriptedRng(std::vector<uint32_t> values) : values_(std::move(values)) {}

  void fill(uint8_t* out, size_t n) override {
    uint32_t value = 0;  // accepted by any bound: a failing test still ends
    if (n != sizeof value) {
      ADD_FAILURE() << "expected 4-byte draws, got " << n;
    } else if (draws_ >= values_.size()) {
      ADD_FAILURE() << "drew more values than scripted";
    } else {
      value = values_[draws_];
    }
    ++draws_;
    std::memcpy(out, &value, std::min(n, sizeof value));
  }
  size_t draws() const { return draws_; }

 private:
  std::vector<uint32_t> values_;
  size_t draws_ = 0;
};

TEST(Code, AlwaysSixDigitsInRange) {
  SystemRng rng;
  for (int i = 0; i < 10000; ++i) {
    const std::string code = generate_code(rng);
    ASSERT_EQ(code.size(), 6u) << code;
    for (char c : code) ASSERT_TRUE(c >= '0' && c <= '9') << code;
    const int value = std::stoi(code);
    ASSERT_GE(value, 100000);
    ASSERT_LE(value, 999999);
  }
}

TEST(Code, EdgesOfTheRange) {
  ScriptedRng lowest({0});
  EXPECT_EQ(generate_code(lowest), "100000");
  ScriptedRng highest({899999});
  EXPECT_EQ(generate_code(highest), "999999");
}

TEST(Code, RejectionSamplingSkipsTheBiasedTail) {
  // 2^32 = 4772 * 900000 + 167296: the top 167296 values would favour the
  // low codes, so they are drawn again. 4294799999 is the last one kept.
  ScriptedRng rng({0xFFFFFFFFu, 5});
  EXPECT_EQ(generate_code(rng), "100005");
  EXPECT_EQ(rng.draws(), 2u);

  ScriptedRng boundary({4294800000u, 4294799999u});
  EXPECT_EQ(generate_code(boundary), "999999");  // 4294799999 % 900000 = 899999
  EXPECT_EQ(boundary.draws(), 2u);

  ScriptedRng kept({4294799999u});
  EXPECT_EQ(generate_code(kept), "999999");
  EXPECT_EQ(kept.draws(), 1u);
}

TEST(Code, DigitsAreUniform) {
  constexpr int kDraws = 200000;
  SystemRng rng;
  int counts[6][10] = {};
  for (int i = 0; i < kDraws; ++i) {
    const std::string code = generate_code(rng);
    for (int position = 0; position < 6; ++position) ++counts[position][code[position] - '0'];
  }
  // The first digit is 1-9, the others 0-9, each equally likely. The bound is
  // about 7 standard deviations: a real bias fails, chance practically never.
  EXPECT_EQ(counts[0][0], 0);
  for (int digit = 1; digit <= 9; ++digit) {
    EXPECT_NEAR(counts[0][digit], kDraws / 9.0, 1100) << "first digit " << digit;
  }
  for (int position = 1; position < 6; ++position) {
    for (int digit = 0; digit <= 9; ++digit) {
      EXPECT_NEAR(counts[position][digit], kDraws / 10.0, 1000)
          << "position " << position << " digit " << digit;
    }
  }
}

TEST(Code, HashIsHexHmacOfPurposeUserAndCode) {
  // Python: hmac.new(b"k", b"email_verification:42:123456", "sha256").hexdigest()
  EXPECT_EQ(hash_code("k", 42, "email_verification", "123456"),
            "8ee28149757f98d87b3f5ea561dae0a6c034cdc71bffdb0fadb921474e4d6dc5");
  EXPECT_EQ(hash_code("k", 42, "email_verification", "123456"),
            hex(hmac_sha256("k", "email_verification:42:123456")));
}

TEST(Code, HashBindsUserAndPurpose) {
  const std::string stored = hash_code("key", 7, "password_recovery", "654321");
  EXPECT_TRUE(code_matches(stored, "key", 7, "password_recovery", "654321"));
  EXPECT_FALSE(code_matches(stored, "key", 8, "password_recovery", "654321"));
  EXPECT_FALSE(code_matches(stored, "key", 7, "pin_reset", "654321"));
  EXPECT_FALSE(code_matches(stored, "key", 7, "email_verification", "654321"));
  EXPECT_FALSE(code_matches(stored, "other key", 7, "password_recovery", "654321"));
}

TEST(Code, MatchesOnlyTheRightCode) {
  const std::string stored = hash_code("key", 1, "email_change", "100000");
  EXPECT_TRUE(code_matches(stored, "key", 1, "email_change", "100000"));
  for (const char* wrong : {"100001", "000000", "10000", "1000000", " 100000", ""}) {
    EXPECT_FALSE(code_matches(stored, "key", 1, "email_change", wrong)) << wrong;
  }
  std::string upper = stored;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, stored);  // this hash has letters in it
  EXPECT_FALSE(code_matches(upper, "key", 1, "email_change", "100000"));
  EXPECT_FALSE(code_matches(stored.substr(0, 63), "key", 1, "email_change", "100000"));
  EXPECT_FALSE(code_matches("", "key", 1, "email_change", "100000"));
}

TEST(Keys, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// Each key's MAC context is kept (a few per thread): more keys than it holds,
// used in turn, and the same message under each gives each key's own MAC.
TEST(Keys, HmacSha256KeepsEachKeysStateApart) {
  const char* kJefe = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const std::string message = "what do ya want for nothing?";
  std::vector<std::string> first;
  for (int i = 0; i < 6; ++i)
    first.push_back(hex(hmac_sha256("key-" + std::to_string(i), message)));
  for (int round = 0; round < 3; ++round) {
    for (int i = 5; i >= 0; --i)
      EXPECT_EQ(hex(hmac_sha256("key-" + std::to_string(i), message)), first[i]) << i;
    EXPECT_EQ(hex(hmac_sha256("Jefe", message)), kJefe);
    EXPECT_EQ(hex(hmac_sha256("Jefe", message)), kJefe);  // its kept state, started over
  }
  for (int i = 1; i < 6; ++i) EXPECT_NE(first[i], first[0]);
}

TEST(Keys, DeriveSeparatesTokenAndCodeKeys) {
  const Keys keys = Keys::derive("cryptopay-test-secret");
  EXPECT_EQ(keys.jwt, "cryptopay-test-secret");
  // Python: hmac.new(b"cryptopay-test-secret", b"cryptopay-auth/code-hash/v1", "sha256")
  EXPECT_EQ(hex(keys.code), "a11ae0f62727acc8aca75fbfd1d744553c114b3f2c9cfa859e0d096e8735d0c4");
  EXPECT_NE(Keys::derive("another secret").code, keys.code);
}

TEST(Keys, HkdfSha256MatchesRfc5869) {
  // RFC 5869 A.3: no salt, no info.
  EXPECT_EQ(hex(hkdf_sha256(std::string(22, '\x0b'), "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
}

TEST(Keys, TheOutboxKeyIsItsOwnHkdfLabel) {
  const Keys keys = Keys::derive("e2e-test-secret-key-0123456789");
  // Python (cryptography): HKDF(SHA256(), 32, None, b"cryptopay-auth/outbox-seal/v1")
  // .derive(b"e2e-test-secret-key-0123456789"). Rows sealed under it must
  // open after an upgrade: the label never changes.
  EXPECT_EQ(hex(keys.outbox), "63f2ba0d5eec2f7d7192040a343bcc60cf1488c5d076b16d7609da1782612ac5");
  EXPECT_NE(keys.outbox, keys.code);
  EXPECT_NE(keys.outbox, keys.jwt);
  EXPECT_NE(Keys::derive("another secret-0123").outbox, keys.outbox);
}

}  // namespace
}  // namespace cpa::auth
