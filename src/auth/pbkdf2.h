// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), the key derivation behind every
// password and PIN hash (auth/password.h). Same output as OpenSSL's
// PKCS5_PBKDF2_HMAC with EVP_sha256(), in about half its time: OpenSSL sets
// up an HMAC for every iteration; this computes the HMAC's inner and outer
// key states once, so an iteration is two SHA-256 block functions
// (OpenSSL's assembly, SHA-NI where the CPU has it) and nothing else.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cpa::auth {

// Fills `out` (dkLen = out.size(), any length from 1 to 2^32 - 1 blocks of
// 32 bytes) with PBKDF2-HMAC-SHA256(password, salt, iterations). Passwords
// and salts are bytes of any length, empty included. False, with `out`
// untouched, when iterations < 1 or `out` is empty or too long.
bool pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, int iterations,
                        std::span<uint8_t> out);

}  // namespace cpa::auth
