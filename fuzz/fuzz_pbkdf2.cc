// fuzz_pbkdf2: auth::pbkdf2_hmac_sha256 (auth/pbkdf2.h) against OpenSSL's
// PKCS5_PBKDF2_HMAC, which it replaces for every password hash.
//
// Input layout: byte 0 picks the iterations (1..64), byte 1 the output length
// (1..96: up to three blocks), byte 2 the password length (cut to what is
// left); the password follows, the salt is the rest. Both may hold any byte.
// The iterations stay small because each costs the same in both: what varies
// is the first iteration and the block handling, not the loop.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "auth/pbkdf2.h"

namespace {

constexpr int kMaxIterations = 64;
constexpr size_t kMaxOutput = 96;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int iterations = 1 + data[0] % kMaxIterations;
  const size_t dklen = 1 + data[1] % kMaxOutput;
  const std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  const size_t password_len = data[2] < rest.size() ? data[2] : rest.size();
  const std::string_view password = rest.substr(0, password_len);
  const std::string_view salt = rest.substr(password_len);

  uint8_t expected[kMaxOutput];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(dklen), expected) != 1) {
    __builtin_trap();  // valid arguments: OpenSSL has no reason to refuse
  }
  uint8_t ours[kMaxOutput];
  if (!cpa::auth::pbkdf2_hmac_sha256(password, salt, iterations, {ours, dklen})) __builtin_trap();
  if (std::memcmp(ours, expected, dklen) != 0) __builtin_trap();
  return 0;
}
