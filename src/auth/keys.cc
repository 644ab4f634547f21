#include "auth/keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace cpa::auth {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // OpenSSL treats a null key pointer as "no key" rather than an empty key.
  static const unsigned char kNoBytes[1] = {0};
  const void* key_bytes = key.empty() ? kNoBytes : static_cast<const void*>(key.data());
  const auto* data_bytes =
      data.empty() ? kNoBytes : reinterpret_cast<const unsigned char*>(data.data());

  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (key.size() > INT_MAX ||
      HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(), mac,
           &mac_len) == nullptr ||
      mac_len != 32) {
    // Only an out-of-memory OpenSSL gets here. A wrong MAC would sign or accept
    // anything, so stop rather than carry on.
    fputs("fatal: HMAC-SHA256 failed\n", stderr);
    abort();
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

Keys Keys::derive(std::string_view secret) {
  Keys keys;
  keys.jwt = std::string(secret);  // simplejwt signs with SECRET_KEY itself
  keys.code = hmac_sha256(secret, "cryptopay-auth/code-hash/v1");
  return keys;
}

}  // namespace cpa::auth
