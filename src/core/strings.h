// Small string helpers shared across layers.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpa {

// ASCII whitespace trimmed, for config values and command-line operands.
// Request fields are stripped as DRF does: strip_python_whitespace (utf8.h).
inline std::string_view trim_whitespace(std::string_view s) {
  constexpr std::string_view kWhitespace = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(kWhitespace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kWhitespace) - b + 1);
}

// Bytes as lowercase hex, two digits each.
inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A non-negative decimal made of ASCII digits only (no sign, no spaces) that
// fits in int64; nullopt otherwise.
inline std::optional<int64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace cpa
