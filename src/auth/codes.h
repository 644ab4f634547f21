// One-time codes (API.md §2): six decimal digits, 100000-999999, uniform from
// the CSPRNG, stored only as a keyed hash bound to the user and the purpose.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/random.h"

namespace cpa::auth {

std::string generate_code(Rng& rng);

// Hex HMAC-SHA256 under `key` of "<purpose>:<user_id>:<code>".
std::string hash_code(std::string_view key, int64_t user_id, std::string_view purpose,
                      std::string_view code);

// Constant-time check of `code` against a stored hash.
bool code_matches(std::string_view stored_hash, std::string_view key, int64_t user_id,
                  std::string_view purpose, std::string_view code);

}  // namespace cpa::auth
