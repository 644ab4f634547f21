#include "auth/password_rules.h"

#include <algorithm>
#include <vector>

#include "core/utf8.h"

namespace cpa::auth {

// Generated at build time from data/common-passwords.txt.gz: one lower-case
// password per line.
extern const std::string_view kCommonPasswordsText;

namespace {

constexpr double kMaxSimilarity = 0.7;  // Django's default

using CodePoints = std::u32string;

// UTF-8 to code points, as Python sees a str (core/utf8.h: a byte that
// starts no valid sequence is one code point of its own).
CodePoints decode_utf8(std::string_view text) {
  CodePoints out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) out.push_back(next_code_point(text, &i));
  return out;
}

void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Python's str.lower() for ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic (checked against Python for U+0000-U+052F), plus the only two code
// points anywhere whose lower case is or contains ASCII: U+0130 and U+212A.
// Emails are ASCII (core/email.h), so for them this is exactly Python's result.
void append_lower(char32_t c, CodePoints* out) {
  auto in = [c](char32_t lo, char32_t hi) { return c >= lo && c <= hi; };
  const bool even = c % 2 == 0;
  char32_t lower = c;
  if (in(0x41, 0x5A) || (in(0xC0, 0xDE) && c != 0xD7)) {
    lower = c + 32;
  } else if (c == 0x130) {  // İ -> i + COMBINING DOT ABOVE
    out->push_back(0x69);
    out->push_back(0x307);
    return;
  } else if ((in(0x100, 0x137) && even) || (in(0x139, 0x148) && !even) ||
             (in(0x14A, 0x177) && even) || (in(0x179, 0x17E) && !even)) {
    lower = c + 1;
  } else if (c == 0x178) {
    lower = 0xFF;
  } else if (c == 0x386) {
    lower = 0x3AC;
  } else if (in(0x388, 0x38A)) {
    lower = c + 37;
  } else if (c == 0x38C) {
    lower = 0x3CC;
  } else if (in(0x38E, 0x38F)) {
    lower = c + 63;
  } else if (in(0x391, 0x3AB) && c != 0x3A2) {
    lower = c + 32;
  } else if (in(0x400, 0x40F)) {
    lower = c + 80;
  } else if (in(0x410, 0x42F)) {
    lower = c + 32;
  } else if ((in(0x460, 0x481) && even) || (in(0x48A, 0x4BF) && even) ||
             (in(0x4C1, 0x4CE) && !even) || (in(0x4D0, 0x52F) && even)) {
    lower = c + 1;
  } else if (c == 0x4C0) {
    lower = 0x4CF;
  } else if (c == 0x212A) {  // KELVIN SIGN -> k
    lower = 0x6B;
  }
  out->push_back(lower);
}

CodePoints lower(const CodePoints& text) {
  CodePoints out;
  out.reserve(text.size());
  for (char32_t c : text) append_lower(c, &out);
  return out;
}

// Python's \w for ASCII; every non-ASCII code point counts as a word character.
bool is_word_char(char32_t c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// re.split(r"\W+", value): empty parts at the ends included, as in Python.
std::vector<CodePoints> split_on_non_word(const CodePoints& value) {
  std::vector<CodePoints> parts(1);
  for (size_t i = 0; i < value.size();) {
    if (is_word_char(value[i])) {
      parts.back().push_back(value[i++]);
      continue;
    }
    while (i < value.size() && !is_word_char(value[i])) ++i;
    parts.emplace_back();
  }
  return parts;
}

double quick_ratio_of(CodePoints a, CodePoints b) {
  const size_t total = a.size() + b.size();
  if (total == 0) return 1.0;
  // The size of the multiset intersection, by merging the sorted sequences.
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t matches = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++matches, ++i, ++j;
    }
  }
  return 2.0 * static_cast<double>(matches) / static_cast<double>(total);
}

// Django's exceeds_maximum_length_ratio: a part far shorter than the password
// cannot make it similar, and is skipped.
bool exceeds_maximum_length_ratio(size_t password_length, size_t part_length) {
  const double length_bound = kMaxSimilarity / 2 * static_cast<double>(password_length);
  return password_length >= 10 * part_length && static_cast<double>(part_length) < length_bound;
}

// The embedded list, sorted once per process for binary search. The views
// point into the compiled-in text, so this costs one pointer pair per entry.
const std::vector<std::string_view>& common_passwords() {
  static const std::vector<std::string_view> sorted = [] {
    std::vector<std::string_view> entries;
    std::string_view text = kCommonPasswordsText;
    while (!text.empty()) {
      const size_t end = std::min(text.find('\n'), text.size());
      std::string_view line = text.substr(0, end);
      text.remove_prefix(std::min(end + 1, text.size()));
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      if (!line.empty()) entries.push_back(line);
    }
    std::sort(entries.begin(), entries.end());
    return entries;
  }();
  return sorted;
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

double quick_ratio(std::string_view a, std::string_view b) {
  return quick_ratio_of(decode_utf8(a), decode_utf8(b));
}

bool too_similar(std::string_view password, std::string_view attribute) {
  if (attribute.empty()) return false;  // Django skips empty attributes
  const CodePoints password_lower = lower(decode_utf8(password));
  const CodePoints value_lower = lower(decode_utf8(attribute));
  std::vector<CodePoints> parts = split_on_non_word(value_lower);
  parts.push_back(value_lower);
  for (const CodePoints& part : parts) {
    if (exceeds_maximum_length_ratio(password_lower.size(), part.size())) continue;
    if (quick_ratio_of(password_lower, part) >= kMaxSimilarity) return true;
  }
  return false;
}

bool is_common_password(std::string_view password) {
  const CodePoints lowered = lower(decode_utf8(password));
  size_t begin = 0;
  size_t end = lowered.size();
  while (begin < end && is_python_space(lowered[begin])) ++begin;
  while (end > begin && is_python_space(lowered[end - 1])) --end;
  std::string key;
  key.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) append_utf8(lowered[i], &key);

  const auto& list = common_passwords();
  return std::binary_search(list.begin(), list.end(), std::string_view(key));
}

std::vector<std::string> password_problems(std::string_view password, std::string_view email) {
  std::vector<std::string> problems;
  if (too_similar(password, email)) problems.emplace_back(password_msg::kTooSimilar);
  if (decode_utf8(password).size() < static_cast<size_t>(kMinPasswordLength)) {
    problems.emplace_back(password_msg::kTooShort);
  }
  if (is_common_password(password)) problems.emplace_back(password_msg::kTooCommon);
  if (!password.empty() && std::all_of(password.begin(), password.end(), is_ascii_digit)) {
    problems.emplace_back(password_msg::kNumeric);
  }
  return problems;
}

}  // namespace cpa::auth
