// `cryptopay-auth time-hash N ITERATIONS`, hidden from the usage text: times
// N password hashes of ours (auth/pbkdf2, what every login spends) one after
// another and prints them as JSON on one line. `make bench` compares the
// login rate with cores ÷ the fastest of them (bench/README.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "auth/pbkdf2.h"
#include "cli/cli.h"
#include "core/clock.h"

namespace cpa::cli {

namespace {

// The operand as a whole number in [min, max], else nullopt.
std::optional<int> bounded(const std::string& text, int min, int max) {
  char* end = nullptr;
  const long v = strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min || v > max) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

int time_hash(const Args& args) {
  const std::optional<int> n = bounded(args.operands[0], 1, 1000);
  const std::optional<int> iterations = bounded(args.operands[1], 1, 100000000);
  if (!n || !iterations) {
    const Outcome usage = Outcome::Usage("N is 1 to 1000 and ITERATIONS 1 to 100000000");
    print_error("time-hash", usage);
    return usage.exit_status();
  }
  // A Django-sized salt and a 32-byte key, as auth/password hashes.
  uint8_t key[32];
  std::string samples;
  double best = 0;
  for (int i = 0; i < *n; ++i) {
    const int64_t start = monotonic_micros();
    auth::pbkdf2_hmac_sha256("Bench-Pass-2024!", "benchsaltbenchsalt1234", *iterations, key);
    const double s = static_cast<double>(monotonic_micros() - start) / 1e6;
    if (i == 0 || s < best) best = s;
    char one[32];
    snprintf(one, sizeof one, "%s%.6f", i ? "," : "", s);
    samples += one;
  }
  printf("{\"method\":\"cpa::auth::pbkdf2_hmac_sha256\",\"iterations\":%d,\"one_hash_s\":%.6f,"
         "\"samples_s\":[%s]}\n",
         *iterations, best, samples.c_str());
  return 0;
}

}  // namespace cpa::cli
