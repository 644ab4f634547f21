// Strict UTF-8: the encoding RFC 3629 allows, nothing else (no overlong
// forms, no surrogates, nothing past U+10FFFF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpa {

bool is_valid_utf8(std::string_view s);

// What Python's bytes.decode("utf-8", errors="replace") gives, as Django
// decodes form fields: each maximal ill-formed subpart becomes one U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

}  // namespace cpa
