// Small string helpers shared across layers.
#pragma once

#include <string_view>

namespace cpa {

// Python's str.strip() on ASCII whitespace (what DRF's trim_whitespace does
// for the inputs we take: emails, codes, names).
inline std::string_view trim_whitespace(std::string_view s) {
  constexpr std::string_view kWhitespace = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(kWhitespace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kWhitespace) - b + 1);
}

}  // namespace cpa
