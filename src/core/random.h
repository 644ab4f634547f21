// Rng: every random byte the service uses (codes, salts, token ids, keys)
// comes from here. SystemRng draws from OpenSSL's CSPRNG; a test may supply
// a deterministic one to make a code predictable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cpa {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(uint8_t* out, size_t n) = 0;

  // Uniform in [0, bound), by rejection sampling: no modulo bias.
  uint32_t uniform(uint32_t bound);
  // n random bytes as 2n lowercase hex digits.
  std::string hex(size_t bytes);
  // n characters drawn uniformly from [A-Za-z0-9] (Django's salt alphabet).
  std::string alphanumeric(size_t n);
};

class SystemRng final : public Rng {
 public:
  // Aborts the process if the CSPRNG fails: nothing secret may be made without it.
  void fill(uint8_t* out, size_t n) override;
};

}  // namespace cpa
