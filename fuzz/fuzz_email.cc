// fuzz_email: Django's email validation and the two stored forms of an
// address (core/email.h). The lookup key is the display form in lower case,
// whatever the input; both keep the length.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/email.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view email(reinterpret_cast<const char*>(data), size);
  const bool valid = cpa::is_valid_email(email);
  const std::string display = cpa::display_email(email);
  const std::string key = cpa::email_key(email);

  std::string lowered = display;
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key != lowered) __builtin_trap();
  if (display.size() != email.size() || key.size() != email.size()) __builtin_trap();
  // Both forms are idempotent.
  if (cpa::display_email(display) != display || cpa::email_key(key) != key) __builtin_trap();
  // The user part is kept as sent; only the domain changes case.
  const size_t at = email.rfind('@');
  if (at != std::string_view::npos && display.compare(0, at + 1, email.substr(0, at + 1)) != 0)
    __builtin_trap();
  if (at == std::string_view::npos && display != email) __builtin_trap();
  if (valid) {
    // Case never makes a valid address invalid, so its stored forms are
    // valid too.
    if (at == std::string_view::npos || email.size() > 320) __builtin_trap();
    if (!cpa::is_valid_email(display) || !cpa::is_valid_email(key)) __builtin_trap();
  }
  return 0;
}
