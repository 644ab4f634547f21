#include "auth/keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

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

std::string hkdf_sha256(std::string_view key, std::string_view info, size_t length) {
  std::string out(length, '\0');
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  OSSL_PARAM params[4];
  OSSL_PARAM* p = params;
  *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(key.data()),
                                           key.size());
  if (!info.empty()) {
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                             info.size());
  }
  *p = OSSL_PARAM_construct_end();
  const bool ok = ctx != nullptr && !key.empty() &&
                  EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), length,
                                 params) == 1;
  EVP_KDF_CTX_free(ctx);
  if (!ok) {
    // As for HMAC: without the key nothing can be sealed or opened.
    fputs("fatal: HKDF-SHA256 failed\n", stderr);
    abort();
  }
  return out;
}

Keys Keys::derive(std::string_view secret) {
  Keys keys;
  keys.jwt = std::string(secret);  // simplejwt signs with SECRET_KEY itself
  keys.code = hmac_sha256(secret, "cryptopay-auth/code-hash/v1");
  keys.outbox = hkdf_sha256(secret, "cryptopay-auth/outbox-seal/v1", 32);
  return keys;
}

}  // namespace cpa::auth
