// JWTs exactly as djangorestframework-simplejwt makes them (API.md §4):
// header {"alg":"HS256","typ":"JWT"}, payload compact JSON in the key order
// token_type, exp, iat, jti, user_id; base64url without padding; HMAC-SHA256.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cpa::auth {

struct Claims {
  std::string token_type;  // "access" | "refresh"
  int64_t exp = 0;
  int64_t iat = 0;
  std::string jti;         // 32 lowercase hex
  int64_t user_id = 0;
};

std::string encode_jwt(const Claims& claims, std::string_view key);

// Verifies and decodes. False for anything but a well-formed HS256 token with
// a valid signature, every claim present with its type, and exp > now.
// Never throws, whatever the input.
bool decode_jwt(std::string_view token, std::string_view key, int64_t now, Claims* out);

std::string base64url_encode(std::string_view bytes);
// Strict: the URL-safe alphabet, no padding, no stray characters.
bool base64url_decode(std::string_view text, std::string* out);

}  // namespace cpa::auth
