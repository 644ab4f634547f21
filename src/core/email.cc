#include "core/email.h"

#include <cctype>

namespace cpa {
namespace {

bool is_atext(unsigned char c) {
  // RFC 5322 atext, as in Django's user_regex dot-atom.
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool valid_user_part(std::string_view user) {
  if (user.empty()) return false;
  if (user.front() == '"') {
    // quoted-string: printable ASCII except " and \ unless escaped.
    if (user.size() < 2 || user.back() != '"') return false;
    for (size_t i = 1; i + 1 < user.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(user[i]);
      if (c == '\\') {
        if (i + 2 >= user.size()) return false;
        unsigned char n = static_cast<unsigned char>(user[++i]);
        if (n > 0x7f || n == 0 || n == '\n' || n == '\r') return false;
        continue;
      }
      if (c == '"' || c > 0x7e || c < 0x20 || c == 0x7f) {
        if (c != '\t') return false;
      }
    }
    return true;
  }
  // dot-atom: atext+ ("." atext+)*
  bool prev_dot = true;
  for (unsigned char c : user) {
    if (c == '.') {
      if (prev_dot) return false;
      prev_dot = true;
    } else if (is_atext(c)) {
      prev_dot = false;
    } else {
      return false;
    }
  }
  return !prev_dot;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view p = s.substr(i, j - i);
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255 || (p.size() > 1 && p[0] == '0')) return false;
    ++parts;
    i = j + 1;
    if (j == s.size()) break;
  }
  return parts == 4;
}

bool valid_domain_part(std::string_view domain) {
  if (domain == "localhost") return true;
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']') {
    std::string_view lit = domain.substr(1, domain.size() - 2);
    if (valid_ipv4(lit)) return true;
    if (lit.rfind("IPv6:", 0) == 0 || lit.rfind("ipv6:", 0) == 0) {
      std::string_view v6 = lit.substr(5);
      if (v6.empty() || v6.size() > 45) return false;
      for (char c : v6)
        if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
      return v6.find(':') != std::string_view::npos;
    }
    return false;
  }
  // ((label.)+) tld, label = [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?, tld = [a-z0-9-]{2,63} not ending in '-'
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool last = dot == std::string_view::npos;
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (label.back() == '-') return false;
    if (!last && label.front() == '-') return false;
    if (last && label.size() < 2) return false;
    ++labels;
    if (last) break;
    start = dot + 1;
  }
  return labels >= 2;
}

}  // namespace

bool is_valid_email(std::string_view email) {
  if (email.empty() || email.size() > 320) return false;
  size_t at = email.rfind('@');
  if (at == std::string_view::npos) return false;
  return valid_user_part(email.substr(0, at)) && valid_domain_part(email.substr(at + 1));
}

std::string display_email(std::string_view email) {
  std::string out(email);
  size_t at = out.rfind('@');
  if (at == std::string::npos) return out;
  for (size_t i = at + 1; i < out.size(); ++i)
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

std::string email_key(std::string_view email) {
  std::string out(email);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace cpa
