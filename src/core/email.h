// Email addresses: validation as Django's EmailValidator, and the two forms
// the service stores (API.md §1): the display form (trimmed, domain in lower
// case) and the lookup key (all lower case: accounts are case-insensitive).
#pragma once

#include <string>
#include <string_view>

namespace cpa {

inline constexpr size_t kMaxEmailLength = 254;

// True when `email` (already trimmed) is an address Django would accept.
bool is_valid_email(std::string_view email);
// "Foo@Example.COM" -> "Foo@example.com"
std::string display_email(std::string_view email);
// "Foo@Example.COM" -> "foo@example.com"
std::string email_key(std::string_view email);

}  // namespace cpa
