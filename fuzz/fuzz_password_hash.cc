// fuzz_password_hash: Django PBKDF2 hash strings (auth/password.h).
//
// Input layout: "<password>\0<encoded hash>"; without a NUL the whole input
// is the encoded hash and the password is empty. Hashes whose iteration count
// is above kMaxFuzzIterations are parsed but not checked: PBKDF2's cost is
// linear in the count, and a fuzzer needs thousands of runs a second.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/password.h"

namespace {

constexpr int kMaxFuzzIterations = 1000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view password = nul == std::string_view::npos ? "" : input.substr(0, nul);
  const std::string_view encoded = nul == std::string_view::npos ? input : input.substr(nul + 1);

  cpa::auth::ParsedHash parsed;
  const bool well_formed = cpa::auth::parse_password_hash(encoded, &parsed);
  if (well_formed) {
    if (parsed.algorithm != "pbkdf2_sha256" || parsed.iterations < 1 || parsed.salt.empty() ||
        parsed.hash.size() != 44) {
      __builtin_trap();
    }
    if (parsed.iterations > kMaxFuzzIterations) return 0;
  }
  // current_iterations 1: a malformed hash burns one iteration only.
  const cpa::auth::PasswordCheck check = cpa::auth::check_password(password, encoded, 1);
  if (check.ok && !well_formed) __builtin_trap();
  if (check.needs_rehash) __builtin_trap();  // nothing is cheaper than 1 iteration
  if (check.ok) {
    // A match is a hash this code makes itself from the same salt and count.
    const std::string again = cpa::auth::hash_password_with_salt(password, parsed.salt,
                                                                 parsed.iterations);
    if (again != encoded) __builtin_trap();
  }
  return 0;
}
