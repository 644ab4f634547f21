#include "core/email.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <string>

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
    // Django's quoted-string: "([\001-\010\013\014\016-\037!#-\[\]-\177]|
    // \\[\001-\011\013\014\016-\177])*"
    if (user.size() < 2 || user.back() != '"') return false;
    for (size_t i = 1; i + 1 < user.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(user[i]);
      if (c == '\\') {
        if (i + 2 >= user.size()) return false;
        unsigned char n = static_cast<unsigned char>(user[++i]);
        if (n == 0 || n == '\n' || n == '\r' || n > 0x7f) return false;
        continue;
      }
      bool ok = (c >= 0x01 && c <= 0x08) || c == 0x0b || c == 0x0c || (c >= 0x0e && c <= 0x1f) ||
                c == '!' || (c >= '#' && c <= '[') || (c >= ']' && c <= 0x7f);
      if (!ok) return false;
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

// Django's literal_regex \[([A-F0-9:.]+)\] and then validate_ipv46_address.
bool valid_address_literal(std::string_view literal) {
  if (literal.empty() || literal.size() > 45) return false;
  for (char c : literal)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  std::string text(literal);
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool valid_domain_part(std::string_view domain) {
  if (domain == "localhost") return true;
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']')
    return valid_address_literal(domain.substr(1, domain.size() - 2));
  // ((label.)+) tld, label = [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?, tld = [a-z0-9-]{2,63} not ending in '-'
  if (domain.empty()) return false;  // Django sets no overall length here
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
