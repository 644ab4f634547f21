#include "auth/seal.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/strings.h"

namespace cpa::auth {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Hands out the given bytes as the nonce.
class FixedRng final : public Rng {
 public:
  explicit FixedRng(std::string bytes) : bytes_(std::move(bytes)) {}
  void fill(uint8_t* out, size_t n) override {
    ASSERT_EQ(n, bytes_.size());
    std::memcpy(out, bytes_.data(), n);
  }

 private:
  std::string bytes_;
};

const std::string kKey(32, 'k');

TEST(Seal, IsAes256GcmWithTheNonceFirst) {
  // The GCM specification's test case 16 (256-bit key, 96-bit IV, AAD).
  const std::string key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const std::string iv = unhex("cafebabefacedbaddecaf888");
  const std::string plaintext = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  FixedRng rng(iv);
  Result<std::string> sealed = seal(key, plaintext, aad, rng);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(to_hex(*sealed),
            "01"                          // version
            "cafebabefacedbaddecaf888"    // nonce
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
            "76fc6ece0f4e1768cddf8853bb2d551b");  // tag
  EXPECT_EQ(open_sealed(key, *sealed, aad), plaintext);
}

TEST(Seal, RoundTripsAndEachSealHasItsOwnNonce) {
  SystemRng rng;
  std::set<std::string> seen;
  for (const std::string& plaintext :
       std::vector<std::string>{"", "Your code: 123456\n", std::string(5000, 'x')}) {
    Result<std::string> a = seal(kKey, plaintext, "to@example.com", rng);
    Result<std::string> b = seal(kKey, plaintext, "to@example.com", rng);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->size(), plaintext.size() + 29);
    EXPECT_NE(*a, *b);
    EXPECT_EQ(a->find("123456"), std::string::npos);
    EXPECT_EQ(open_sealed(kKey, *a, "to@example.com"), plaintext);
    EXPECT_EQ(open_sealed(kKey, *b, "to@example.com"), plaintext);
    seen.insert(a->substr(1, 12));
    seen.insert(b->substr(1, 12));
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Seal, AnythingAlteredDoesNotOpen) {
  SystemRng rng;
  const std::string sealed = *seal(kKey, "Your code: 123456", "to@example.com", rng);
  EXPECT_EQ(open_sealed(std::string(32, 'K'), sealed, "to@example.com"), std::nullopt) << "key";
  EXPECT_EQ(open_sealed(kKey, sealed, "other@example.com"), std::nullopt) << "context";
  EXPECT_EQ(open_sealed(kKey, sealed, ""), std::nullopt) << "no context";
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_EQ(open_sealed(kKey, flipped, "to@example.com"), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(open_sealed(kKey, sealed.substr(0, sealed.size() - 1), "to@example.com"), std::nullopt);
  EXPECT_EQ(open_sealed(kKey, sealed.substr(0, 28), "to@example.com"), std::nullopt);
  EXPECT_EQ(open_sealed(kKey, "", "to@example.com"), std::nullopt);
  EXPECT_EQ(open_sealed(kKey, "Your code: 123456", "to@example.com"), std::nullopt) << "plain";
}

TEST(Seal, RefusesAKeyOfTheWrongSize) {
  SystemRng rng;
  EXPECT_EQ(seal(std::string(16, 'k'), "x", "", rng).status_or_ok().kind(),
            Status::Kind::kInternal);
  const std::string sealed = *seal(kKey, "x", "", rng);
  EXPECT_EQ(open_sealed(std::string(16, 'k'), sealed, ""), std::nullopt);
}

}  // namespace
}  // namespace cpa::auth
