#include "auth/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/pbkdf2.h"

namespace cpa::auth {
namespace {

constexpr std::string_view kAlgorithm = "pbkdf2_sha256";
constexpr int kMaxIterations = 100000000;  // beyond this a stored hash is a denial of service
constexpr size_t kSaltLength = 22;         // 22 x log2(62) > 128 bits, as Django wants
constexpr size_t kDerivedKeyLength = 32;   // SHA-256's size: Django's dklen=None
constexpr size_t kEncodedKeyLength = 44;   // base64 of 32 bytes, with one '='

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Decimal without sign or leading zeros, in [1, kMaxIterations]. Django
// compares whole encoded strings, so a non-canonical count could never match.
bool parse_iterations(std::string_view text, int* out) {
  if (text.empty() || text.size() > 9 || text[0] == '0') return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > kMaxIterations) return false;
  *out = value;
  return true;
}

// Base64 of PBKDF2-HMAC-SHA256(password, salt, iterations), or "" for a
// count out of range. Every hash and check, and the burn, derive here: one
// function, so a burn costs what a check costs.
std::string derive_base64(std::string_view password, std::string_view salt, int iterations) {
  if (iterations < 1 || iterations > kMaxIterations) return "";
  unsigned char key[kDerivedKeyLength];
  if (!pbkdf2_hmac_sha256(password, salt, iterations, key)) return "";
  unsigned char text[kEncodedKeyLength + 1];  // EVP_EncodeBlock adds a NUL
  const int text_len = EVP_EncodeBlock(text, key, static_cast<int>(kDerivedKeyLength));
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(text_len));
}

}  // namespace

bool parse_password_hash(std::string_view encoded, ParsedHash* out) {
  // algorithm$iterations$salt$hash; Django's unusable passwords ("!...") and
  // every other hasher fail on the algorithm.
  const size_t first = encoded.find('$');
  if (first == std::string_view::npos) return false;
  const size_t second = encoded.find('$', first + 1);
  if (second == std::string_view::npos) return false;
  const size_t third = encoded.find('$', second + 1);
  if (third == std::string_view::npos) return false;

  ParsedHash parsed;
  parsed.algorithm = encoded.substr(0, first);
  parsed.salt = encoded.substr(second + 1, third - second - 1);
  parsed.hash = encoded.substr(third + 1);
  if (parsed.algorithm != kAlgorithm) return false;
  if (!parse_iterations(encoded.substr(first + 1, second - first - 1), &parsed.iterations)) {
    return false;
  }
  if (parsed.salt.empty()) return false;  // Django asserts a salt
  if (parsed.hash.size() != kEncodedKeyLength || parsed.hash.back() != '=') return false;
  for (size_t i = 0; i + 1 < parsed.hash.size(); ++i) {
    if (!is_base64_char(parsed.hash[i])) return false;
  }
  *out = parsed;
  return true;
}

std::string hash_password(std::string_view password, int iterations, Rng& rng) {
  return hash_password_with_salt(password, rng.alphanumeric(kSaltLength), iterations);
}

std::string hash_password_with_salt(std::string_view password, std::string_view salt,
                                    int iterations) {
  // A bad salt or count is a programming error (Config bounds the count). The
  // empty string it yields is a hash that nothing matches, never a weak one.
  if (salt.empty() || salt.find('$') != std::string_view::npos) return "";
  std::string key = derive_base64(password, salt, iterations);
  if (key.empty()) return "";
  std::string out;
  out.reserve(kAlgorithm.size() + salt.size() + key.size() + 12);
  out.append(kAlgorithm).append("$").append(std::to_string(iterations)).append("$");
  out.append(salt).append("$").append(key);
  return out;
}

PasswordCheck check_password(std::string_view password, std::string_view encoded,
                             int current_iterations) {
  PasswordCheck result;
  ParsedHash parsed;
  if (!parse_password_hash(encoded, &parsed)) {
    // Same cost as a real check: an account without a usable password must
    // not answer faster than one with a password.
    burn_password_check(password, current_iterations);
    return result;
  }
  const std::string expected = derive_base64(password, parsed.salt, parsed.iterations);
  // Both are 44 characters when derivation worked; the comparison is on the
  // base64 text, as Django compares encoded strings.
  result.ok = expected.size() == parsed.hash.size() &&
              CRYPTO_memcmp(expected.data(), parsed.hash.data(), expected.size()) == 0;
  result.needs_rehash = result.ok && parsed.iterations < current_iterations;
  return result;
}

std::string burn_password_check(std::string_view password, int iterations) {
  if (iterations < 1) iterations = 1;
  if (iterations > kMaxIterations) iterations = kMaxIterations;
  // As long as a real salt, so the work is the same to the cycle.
  constexpr std::string_view kBurnSalt = "cryptopayburnsaltXXXXX";
  static_assert(kBurnSalt.size() == kSaltLength);
  return hash_password_with_salt(password, kBurnSalt, iterations);
}

}  // namespace cpa::auth
