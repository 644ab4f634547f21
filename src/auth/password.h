// Password hashing in Django's format (PBKDF2PasswordHasher):
//   pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte derived key>
// so that users can be imported from a Django database and back. Salts are
// 22 characters from [A-Za-z0-9] drawn from the CSPRNG. PINs use the same
// hasher with their own iteration count.
#pragma once

#include <string>
#include <string_view>

#include "core/random.h"

namespace cpa::auth {

struct ParsedHash {
  std::string_view algorithm;  // "pbkdf2_sha256"
  int iterations = 0;
  std::string_view salt;
  std::string_view hash;       // base64
};

// False when `encoded` is not a well-formed pbkdf2_sha256 string.
bool parse_password_hash(std::string_view encoded, ParsedHash* out);

std::string hash_password(std::string_view password, int iterations, Rng& rng);
std::string hash_password_with_salt(std::string_view password, std::string_view salt,
                                    int iterations);

struct PasswordCheck {
  bool ok = false;            // the password matches
  bool needs_rehash = false;  // it matched a hash of lower cost than `current_iterations`
};

// Constant-time comparison. A malformed or unusable hash never matches, and
// still costs one check at `current_iterations`, so that an account without a
// usable password answers no faster than one with a password.
PasswordCheck check_password(std::string_view password, std::string_view encoded,
                             int current_iterations);

// Spends the time of one check at `iterations` without comparing anything:
// answers for unknown accounts take as long as for known ones. Returns the
// hash it derived (a fixed salt), which shows what the work was.
std::string burn_password_check(std::string_view password, int iterations);

}  // namespace cpa::auth
