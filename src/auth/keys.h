// Keys: the key material derived once per process from AUTH_SECRET_KEY.
// The JWT key is the secret itself (simplejwt signs with SECRET_KEY); codes
// are hashed under a separate key derived from it, so the two uses never share
// a key.
#pragma once

#include <string>
#include <string_view>

namespace cpa::auth {

struct Keys {
  std::string jwt;   // HMAC key for tokens
  std::string code;  // HMAC key for one-time code hashes

  static Keys derive(std::string_view secret);
};

// Raw HMAC-SHA256 (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace cpa::auth
