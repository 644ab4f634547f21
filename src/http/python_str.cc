#include "http/python_str.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "core/utf8.h"

namespace cpa::http {
namespace {

// repr(float): the shortest digits that read back as the same double, in
// fixed notation when the decimal exponent is in [-4, 16), else scientific
// with a signed exponent of at least two digits.
std::string python_repr_of_double(double value) {
  if (value != value) return "nan";
  if (value == HUGE_VAL) return "inf";
  if (value == -HUGE_VAL) return "-inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value,
                                       std::chars_format::scientific);
  if (ec != std::errc()) return "nan";  // cannot happen: 64 bytes always suffice
  // buffer holds [-]d[.ddd]e(+|-)dd: split it into sign, digits and exponent.
  std::string_view text(buffer, static_cast<size_t>(end - buffer));
  std::string out;
  if (text.front() == '-') {
    out.push_back('-');
    text.remove_prefix(1);
  }
  const size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exponent = 0;
  std::from_chars(text.data() + e + (text[e + 1] == '+' ? 2 : 1), text.data() + text.size(),
                  exponent);
  const int point = exponent + 1;  // digits = 0.d1d2... * 10^point
  const int n = static_cast<int>(digits.size());
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      out.append("0.").append(static_cast<size_t>(-point), '0').append(digits);
    } else if (point < n) {
      out.append(digits, 0, static_cast<size_t>(point)).push_back('.');
      out.append(digits, static_cast<size_t>(point));
    } else {
      out.append(digits).append(static_cast<size_t>(point - n), '0').append(".0");
    }
    return out;
  }
  out.push_back(digits[0]);
  if (n > 1) out.append(".").append(digits, 1);
  out.push_back('e');
  out.push_back(exponent < 0 ? '-' : '+');
  const int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out.push_back('0');
  out.append(std::to_string(magnitude));
  return out;
}

// str.isprintable() for an assigned code point (Unicode 15): false for
// controls, separators other than the space, format characters, private use
// and the noncharacters at the end of each plane.
bool python_printable(uint32_t cp) {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad) return false;
  if (cp < 0x100) return true;
  if ((cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd || cp == 0x70f ||
      cp == 0x890 || cp == 0x891 || cp == 0x8e2 ||
      cp == 0x1680 || cp == 0x180e || (cp >= 0x2000 && cp <= 0x200f) ||
      (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x2064) ||
      (cp >= 0x2066 && cp <= 0x206f) || cp == 0x3000 || (cp >= 0xd800 && cp <= 0xf8ff) ||
      cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || (cp & 0xfffe) == 0xfffe ||
      cp == 0x110bd || cp == 0x110cd || (cp >= 0x13430 && cp <= 0x1343f) ||
      (cp >= 0x1bca0 && cp <= 0x1bca3) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
      (cp >= 0xe0000 && cp <= 0xe007f) || cp >= 0xf0000)
    return false;
  return true;
}

void append_hex(std::string* out, char kind, uint32_t cp, int width) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('\\');
  out->push_back(kind);
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4) out->push_back(kHex[(cp >> shift) & 0xf]);
}

}  // namespace

std::string python_str_of_json_number(std::string_view json_number) {
  if (json_number.find_first_of(".eE") == std::string_view::npos) {
    if (json_number.find_first_not_of("-0") == std::string_view::npos) return "0";
    return std::string(json_number);
  }
  // strtod rounds correctly and gives HUGE_VAL past the range, as float() does.
  const std::string text(json_number);
  return python_repr_of_double(std::strtod(text.c_str(), nullptr));
}

void append_python_repr(std::string* out, std::string_view utf8) {
  const bool double_quoted =
      utf8.find('\'') != std::string_view::npos && utf8.find('"') == std::string_view::npos;
  const char quote = double_quoted ? '"' : '\'';
  out->push_back(quote);
  for (size_t i = 0; i < utf8.size();) {
    const size_t at = i;
    const char32_t cp = next_code_point(utf8, &i);
    if (cp == '\\' || cp == static_cast<unsigned char>(quote)) {
      out->push_back('\\');
      out->push_back(static_cast<char>(cp));
    } else if (cp == '\t') {
      out->append("\\t");
    } else if (cp == '\n') {
      out->append("\\n");
    } else if (cp == '\r') {
      out->append("\\r");
    } else if (python_printable(cp)) {
      out->append(utf8.substr(at, i - at));
    } else if (cp < 0x100) {
      append_hex(out, 'x', cp, 2);
    } else if (cp < 0x10000) {
      append_hex(out, 'u', cp, 4);
    } else {
      append_hex(out, 'U', cp, 8);
    }
  }
  out->push_back(quote);
}

}  // namespace cpa::http
