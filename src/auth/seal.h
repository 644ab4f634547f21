// Sealing: AES-256-GCM for data at rest (the outbox's subjects and bodies,
// which carry codes). A sealed value is a version byte (1), a random 96-bit
// nonce from the CSPRNG, the ciphertext, and the 128-bit tag: 29 bytes more
// than the plaintext. `aad` is authenticated but not stored: open() needs the
// same context, so a value moved to another row does not open there.
//
// With a random nonce a key may seal about 2^32 values before a repeat
// becomes a risk: far beyond the mail this service sends under one secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"
#include "core/status.h"

namespace cpa::auth {

inline constexpr size_t kSealKeyBytes = 32;

// Internal when the key is not 32 bytes or OpenSSL fails.
Result<std::string> seal(std::string_view key, std::string_view plaintext, std::string_view aad,
                         Rng& rng);

// The plaintext; nullopt when `sealed` is not a value sealed under `key`
// with `aad` (truncated, altered, another key or context, unknown version).
std::optional<std::string> open_sealed(std::string_view key, std::string_view sealed,
                                       std::string_view aad);

}  // namespace cpa::auth
