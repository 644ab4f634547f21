#include "auth/pbkdf2.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"

namespace cpa::auth {
namespace {

using namespace std::string_view_literals;

// Expected values: published where a source is named, otherwise from
// Python's hashlib.pbkdf2_hmac('sha256', ...), which shares no code with ours.
struct Vector {
  std::string_view password;
  std::string_view salt;
  int iterations;
  std::string_view hex;  // dkLen is its length / 2
};

std::string derive_hex(std::string_view password, std::string_view salt, int iterations,
                       size_t dklen) {
  std::vector<uint8_t> out(dklen);
  if (!pbkdf2_hmac_sha256(password, salt, iterations, out)) return "refused";
  return to_hex(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

void expect_vectors(const std::vector<Vector>& vectors) {
  for (const Vector& v : vectors) {
    EXPECT_EQ(derive_hex(v.password, v.salt, v.iterations, v.hex.size() / 2), v.hex)
        << "password size " << v.password.size() << ", salt size " << v.salt.size() << ", c "
        << v.iterations;
  }
}

TEST(Pbkdf2, Rfc7914Section11) {
  expect_vectors({
      {"passwd", "salt", 1,
       "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
       "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
      {"Password", "NaCl", 80000,
       "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
       "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
  });
}

// The SHA-256 counterparts of RFC 6070's cases, as widely published.
TEST(Pbkdf2, Rfc6070StyleVectors) {
  expect_vectors({
      {"password", "salt", 1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
      {"password", "salt", 2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
      {"password", "salt", 4096,
       "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
      {"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096,
       "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"},
      {"pass\0word"sv, "sa\0lt"sv, 4096, "89b69d0516f829893c696226650a8687"},
  });
}

// make_password("lètmein", "seasalt", "pbkdf2_sha256") in Django's own
// tests/auth_tests/test_hashers.py (test_pbkdf2): 4.2 at 600,000 iterations,
// 5.0 at 720,000.
TEST(Pbkdf2, DjangoTestSuiteHashes) {
  struct DjangoHash {
    int iterations;
    std::string_view base64;
  };
  for (const DjangoHash& h : {DjangoHash{600000, "OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA="},
                              DjangoHash{720000, "eDupbcisD1UuIiou3hMuMu8oe/XwnpDw45r6AA5iv0E="}}) {
    uint8_t key[32];
    ASSERT_TRUE(pbkdf2_hmac_sha256("l\xc3\xa8tmein", "seasalt", h.iterations, key));
    unsigned char text[45];
    const int n = EVP_EncodeBlock(text, key, sizeof key);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(n)),
              h.base64)
        << h.iterations;
  }
}

// HMAC hashes a key longer than its 64-byte block first; 64 bytes is used as is.
TEST(Pbkdf2, PasswordsAroundTheBlockSize) {
  const std::string p64(64, 'p');
  const std::string p65(65, 'p');
  std::string p200;
  for (int i = 0; i < 200; ++i) p200.push_back(static_cast<char>(i));
  expect_vectors({
      {p64, "salt", 1000, "e19efa907311d3b78dbfb4f7fe62da1a777b23267b9ca4650830e9275d433001"},
      {p65, "salt", 1000, "43717819bb71ac51ca4e451a272eeab74f730b2b3798ddbeb6568a2167f6eca8"},
      {p200, "saltSALT", 2,
       "da26904cef035efddd4a19cec5ce618e87005f0012125b14fa6ad72b7cdb12b9114a9dd2b07394d7"},
  });

  // So a long password and its SHA-256 are the same HMAC key.
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(p65.data()), p65.size(), digest);
  const std::string_view hashed(reinterpret_cast<const char*>(digest), sizeof digest);
  EXPECT_EQ(derive_hex(hashed, "salt", 1000, 32), derive_hex(p65, "salt", 1000, 32));
}

TEST(Pbkdf2, EmptyPasswordAndSalt) {
  expect_vectors({
      {"", "salt", 1000, "94fb56af3ea22e5d3ed1b054085b136ca301b75d8b406c802c489479f27387c6"},
      {"password", "", 1000, "26939681d19995a2cefb7b90d13e1343f09b30f0abbd07416a23b9bc3c5b3536"},
      {"", "", 1, "f7ce0b653d2d72a4108cf5abe912ffdd777616dbbb27a70e8204f3ae2d0f6fad"},
      {"", "", 1000,
       "4fc58a21c100ce1835b8f9991d738b56965d14b24e1761fbdffc69ac5e0b667a"
       "9e3f61a0670782c0f022f17ded24d185e58d5e4bd630a5f4bd469ee5b98366a7"},
  });
}

// Lengths that are not whole blocks: T_2.. are cut, and a shorter key is a
// prefix of a longer one.
TEST(Pbkdf2, OutputLengthsAcrossBlocks) {
  expect_vectors({
      {"password", "salt", 3, "ad35240ac683febfaf3cd49d845473fbbbaa2437f5f82d5a415ae00ac76c6bfccf"},
      {"password", "salt", 3,
       "ad35240ac683febfaf3cd49d845473fbbbaa2437f5f82d5a415ae00ac76c6bfc"
       "cf9a9b8d6d2fe4a1e700c4460b040dbed692c1cb85a747f35588c08930fcfc41"
       "ac48082086069b111a9c752f1856237f3af8adc86757f26c60870d3eb52a7c20"
       "60c3749b"},
      {"password", "salt", 3, "ad"},
  });
}

TEST(Pbkdf2, RefusesBadArgumentsAndLeavesTheOutputAlone) {
  std::vector<uint8_t> out(32, 0xab);
  EXPECT_FALSE(pbkdf2_hmac_sha256("pw", "salt", 0, out));
  EXPECT_FALSE(pbkdf2_hmac_sha256("pw", "salt", -1, out));
  EXPECT_EQ(out, std::vector<uint8_t>(32, 0xab));
  EXPECT_FALSE(pbkdf2_hmac_sha256("pw", "salt", 1, std::span<uint8_t>()));
}

// OpenSSL's PKCS5_PBKDF2_HMAC as the reference, on inputs from a fixed seed
// (the same draws on every run and machine).
TEST(Pbkdf2, AgreesWithOpenSslOnRandomInputs) {
  std::mt19937 gen(14);
  auto uniform = [&gen](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  auto bytes = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(uniform(0, 255)));
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    const std::string password = bytes(uniform(0, 200));
    const std::string salt = bytes(uniform(0, 200));
    const int iterations = uniform(1, 50);
    const size_t dklen = static_cast<size_t>(uniform(1, 100));

    std::vector<uint8_t> expected(dklen);
    ASSERT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                reinterpret_cast<const uint8_t*>(salt.data()),
                                static_cast<int>(salt.size()), iterations, EVP_sha256(),
                                static_cast<int>(dklen), expected.data()),
              1);
    std::vector<uint8_t> ours(dklen);
    ASSERT_TRUE(pbkdf2_hmac_sha256(password, salt, iterations, ours));
    EXPECT_EQ(ours, expected) << "round " << round << ": password size " << password.size()
                              << ", salt size " << salt.size() << ", c " << iterations
                              << ", dkLen " << dklen;
  }
}

}  // namespace
}  // namespace cpa::auth
