// Strict UTF-8: the encoding RFC 3629 allows, nothing else (no overlong
// forms, no surrogates, nothing past U+10FFFF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpa {

// The length of the well-formed sequence that starts at s[i], or 0 when the
// bytes there are not one.
size_t utf8_sequence_length(std::string_view s, size_t i);

bool is_valid_utf8(std::string_view s);

// Each byte that does not start a well-formed sequence becomes U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

}  // namespace cpa
