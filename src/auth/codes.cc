#include "auth/codes.h"

#include <openssl/crypto.h>

#include "auth/keys.h"
#include "core/strings.h"

namespace cpa::auth {

std::string generate_code(Rng& rng) {
  // uniform() rejection-samples, so every code in 100000-999999 is equally likely.
  return std::to_string(100000 + rng.uniform(900000));
}

std::string hash_code(std::string_view key, int64_t user_id, std::string_view purpose,
                      std::string_view code) {
  std::string message;
  message.reserve(purpose.size() + code.size() + 24);
  message.append(purpose).append(":").append(std::to_string(user_id)).append(":").append(code);

  return to_hex(hmac_sha256(key, message));
}

bool code_matches(std::string_view stored_hash, std::string_view key, int64_t user_id,
                  std::string_view purpose, std::string_view code) {
  const std::string expected = hash_code(key, user_id, purpose, code);
  // The length of a stored hash is no secret (always 64); only its bytes are.
  return stored_hash.size() == expected.size() &&
         CRYPTO_memcmp(stored_hash.data(), expected.data(), expected.size()) == 0;
}

}  // namespace cpa::auth
