// Keys: the key material derived once per process from AUTH_SECRET_KEY.
// The JWT key is the secret itself (simplejwt signs with SECRET_KEY); codes
// are hashed, and outbox rows sealed, under separate keys derived from it, so
// no two uses share a key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpa::auth {

struct Keys {
  std::string jwt;     // HMAC key for tokens
  std::string code;    // HMAC key for one-time code hashes
  std::string outbox;  // AES-256-GCM key for outbox subjects and bodies at rest (32 bytes)

  static Keys derive(std::string_view secret);
};

// Raw HMAC-SHA256 (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

// HKDF-SHA256 (RFC 5869) without salt: `length` bytes for `info` from `key`.
std::string hkdf_sha256(std::string_view key, std::string_view info, size_t length);

}  // namespace cpa::auth
