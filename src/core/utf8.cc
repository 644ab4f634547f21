#include "core/utf8.h"

namespace cpa {

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;  // every byte but a continuation starts a character
  return n;
}
namespace {

// How far the well-formed prefix starting at s[i] goes, by the table of
// well-formed byte sequences (Unicode, table 3-7). `*complete` says whether it
// is a whole character; if not, the bytes read are its "maximal subpart",
// which Python's decode(errors="replace") turns into one U+FFFD.
size_t scan(std::string_view s, size_t i, bool* complete) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  *complete = false;
  if (lead < 0x80) {
    *complete = true;
    return 1;
  }
  size_t length;
  unsigned char second_min = 0x80, second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // no overlong forms
    if (lead == 0xed) second_max = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // no overlong forms
    if (lead == 0xf4) second_max = 0x8f;  // nothing past U+10FFFF
  } else {
    return 1;  // a continuation byte, C0, C1 or F5..FF: never a start
  }
  size_t n = 1;
  for (; n < length && i + n < s.size(); ++n) {
    const unsigned char next = static_cast<unsigned char>(s[i + n]);
    const unsigned char min = n == 1 ? second_min : 0x80;
    const unsigned char max = n == 1 ? second_max : 0xbf;
    if (next < min || next > max) return n;
  }
  *complete = n == length;
  return n;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    bool complete;
    i += scan(s, i, &complete);
    if (!complete) return false;
  }
  return true;
}

char32_t next_code_point(std::string_view s, size_t* i) {
  bool complete;
  const size_t n = scan(s, *i, &complete);
  const auto lead = static_cast<unsigned char>(s[*i]);
  if (!complete) {
    *i += 1;
    return lead < 0x80 ? lead : 0xDC00 + lead;
  }
  char32_t cp = n == 1 ? lead : n == 2 ? lead & 0x1F : n == 3 ? lead & 0x0F : lead & 0x07;
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += n;
  return cp;
}

std::string_view utf8_prefix(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t count = 0; count < n && i < s.size(); ++count) next_code_point(s, &i);
  return s.substr(0, i);
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string_view strip_python_whitespace(std::string_view s) {
  size_t begin = s.size(), end = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    if (is_python_space(next_code_point(s, &i))) continue;
    if (begin == s.size()) begin = at;
    end = i;
  }
  return begin < end ? s.substr(begin, end - begin) : std::string_view();
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool complete;
    const size_t n = scan(s, i, &complete);
    if (complete) {
      out.append(s.substr(i, n));
    } else {
      out.append("\xef\xbf\xbd");
    }
    i += n;
  }
  return out;
}

}  // namespace cpa
