// fuzz_jwt: JWT decoding (auth/jwt.h) under a fixed key and clock.
//
// Each input is tried three ways, so that the fuzzer reaches the claims
// parser without having to forge an HMAC:
//   1. as a token, as sent;
//   2. as a token whose signature is replaced by the right one for its first
//      two segments ("<header>.<payload>.<anything>");
//   3. as the payload JSON itself, wrapped in simplejwt's header and signed.
// Whenever a token decodes, encode_jwt(claims) must decode to the same
// claims; whenever base64url_decode accepts a text, encoding the bytes again
// must give that text back (the decoder is strict: one spelling per string),
// and any bytes must survive encoding and decoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "auth/keys.h"

namespace {

// tests/unit/auth/jwt_test.cc's key and the vector token's iat: the simplejwt
// vector (fuzz/corpus/fuzz_jwt/) is valid at this time.
constexpr std::string_view kKey = "cryptopay-test-secret";
constexpr int64_t kNow = 1742848362;
constexpr std::string_view kHeaderSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

bool same(const cpa::auth::Claims& a, const cpa::auth::Claims& b) {
  return a.token_type == b.token_type && a.exp == b.exp && a.iat == b.iat && a.jti == b.jti &&
         a.user_id == b.user_id;
}

void decode_and_round_trip(std::string_view token) {
  cpa::auth::Claims claims;
  if (!cpa::auth::decode_jwt(token, kKey, kNow, &claims)) return;
  if (claims.exp <= kNow) __builtin_trap();
  const std::string again = cpa::auth::encode_jwt(claims, kKey);
  cpa::auth::Claims decoded;
  if (!cpa::auth::decode_jwt(again, kKey, kNow, &decoded) || !same(claims, decoded))
    __builtin_trap();
  // Our own encoding is canonical: encoding what it decodes to changes nothing.
  if (cpa::auth::encode_jwt(decoded, kKey) != again) __builtin_trap();
  // Under another key the same token is refused.
  if (cpa::auth::decode_jwt(token, "another-key", kNow, nullptr)) __builtin_trap();
}

void base64url_round_trip(std::string_view text) {
  std::string bytes;
  if (!cpa::auth::base64url_decode(text, &bytes)) return;
  if (cpa::auth::base64url_encode(bytes) != text) __builtin_trap();
}

std::string signed_with_key(std::string_view signing_input) {
  std::string token(signing_input);
  token.push_back('.');
  token.append(cpa::auth::base64url_encode(cpa::auth::hmac_sha256(kKey, signing_input)));
  return token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. As sent.
  decode_and_round_trip(input);
  base64url_round_trip(input);
  {
    // And any bytes survive encoding and decoding.
    std::string bytes;
    if (!cpa::auth::base64url_decode(cpa::auth::base64url_encode(input), &bytes) || bytes != input)
      __builtin_trap();
  }

  // 2. Re-signed: header and payload as sent.
  const size_t first_dot = input.find('.');
  if (first_dot != std::string_view::npos) {
    const size_t second_dot = input.find('.', first_dot + 1);
    base64url_round_trip(input.substr(0, first_dot));
    base64url_round_trip(input.substr(first_dot + 1, second_dot == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : second_dot - first_dot - 1));
    if (second_dot != std::string_view::npos && input.size() <= 8192) {
      decode_and_round_trip(signed_with_key(input.substr(0, second_dot)));
    }
  }

  // 3. The input as the payload JSON.
  if (size <= 4096) {
    std::string signing_input(kHeaderSegment);
    signing_input.push_back('.');
    signing_input.append(cpa::auth::base64url_encode(input));
    decode_and_round_trip(signed_with_key(signing_input));
  }
  return 0;
}
