#include "core/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "core/strings.h"

namespace cpa {

uint32_t Rng::uniform(uint32_t bound) {
  if (bound <= 1) return 0;
  // Accept only values below the largest multiple of `bound` that fits in
  // 32 bits, so that every residue is equally likely.
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % bound + 1) % bound;
  for (;;) {
    uint32_t v;
    fill(reinterpret_cast<uint8_t*>(&v), sizeof v);
    if (v <= limit) return v % bound;
  }
}

std::string Rng::hex(size_t bytes) {
  std::string raw(bytes, '\0');
  fill(reinterpret_cast<uint8_t*>(raw.data()), bytes);
  return to_hex(raw);
}

std::string Rng::alphanumeric(size_t n) {
  static const char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(kAlphabet[uniform(sizeof kAlphabet - 1)]);
  return out;
}

void SystemRng::fill(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    fputs("fatal: the system CSPRNG failed\n", stderr);
    abort();
  }
}

}  // namespace cpa
