#include "auth/keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstdio>
#include <cstdlib>

namespace cpa::auth {

namespace {

[[noreturn]] void hmac_failed() {
  // Only an out-of-memory OpenSSL gets here. A wrong MAC would sign or accept
  // anything, so stop rather than carry on.
  fputs("fatal: HMAC-SHA256 failed\n", stderr);
  abort();
}

// OpenSSL 3's one-shot HMAC() fetches SHA-256 and sets up the key's inner
// and outer states on every call (about 3 us, paid on every token signed or
// checked); a context kept per key and re-initialised without a key reuses
// those states (under 1 us). A process has a few fixed keys (auth::Keys), so
// a small cache per thread holds their contexts.
struct CachedMac {
  std::string key;
  EVP_MAC_CTX* ctx = nullptr;
  ~CachedMac() { EVP_MAC_CTX_free(ctx); }
};
constexpr size_t kCachedKeys = 4;
thread_local CachedMac t_macs[kCachedKeys];
thread_local size_t t_next_mac = 0;

EVP_MAC_CTX* mac_for(std::string_view key) {
  for (CachedMac& m : t_macs)
    if (m.ctx != nullptr && m.key == key) return m.ctx;
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  CachedMac& m = t_macs[t_next_mac++ % kCachedKeys];
  EVP_MAC_CTX_free(m.ctx);
  m.ctx = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
  if (m.ctx == nullptr) hmac_failed();
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  // A non-null pointer with length 0 is an empty key; a null one would mean
  // "the key set before", and there is none yet.
  static const unsigned char kNoBytes[1] = {0};
  const auto* bytes =
      key.empty() ? kNoBytes : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(m.ctx, bytes, key.size(), params) != 1) hmac_failed();
  m.key = std::string(key);
  return m.ctx;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  EVP_MAC_CTX* ctx = mac_for(key);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  // Re-initialised without a key: the key's states, set once, start over.
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 ||
      (!data.empty() &&
       EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
           1) ||
      EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) != 1 || mac_len != 32) {
    hmac_failed();
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
