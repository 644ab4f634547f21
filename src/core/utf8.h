// Strict UTF-8: the encoding RFC 3629 allows, nothing else (no overlong
// forms, no surrogates, nothing past U+10FFFF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpa {

bool is_valid_utf8(std::string_view s);

// Characters (code points) in a valid UTF-8 string: what Python's len() of
// the decoded str gives, so what DRF's max_length counts.
size_t utf8_length(std::string_view s);

// The code point at s[*i], advancing *i past it. A byte that starts no
// well-formed sequence is one code point of its own, U+DC80..U+DCFF (as
// Python's surrogateescape), so that any input has a length.
char32_t next_code_point(std::string_view s, size_t* i);

// The first `n` code points of `s`, or all of it when shorter. A byte that
// starts no well-formed sequence counts as one, as in next_code_point(), so a
// well-formed character is never cut in two.
std::string_view utf8_prefix(std::string_view s, size_t n);

// Each byte as the Latin-1 character it names, in UTF-8: how WSGI (PEP 3333)
// and so Django read a header's bytes.
std::string latin1_to_utf8(std::string_view s);

// Python's str.isspace(), which str.strip() uses.
bool is_python_space(char32_t c);

// Python's str.strip() with no argument (what DRF's trim_whitespace does).
std::string_view strip_python_whitespace(std::string_view s);

// What Python's bytes.decode("utf-8", errors="replace") gives, as Django
// decodes form fields: each maximal ill-formed subpart becomes one U+FFFD.
std::string replace_invalid_utf8(std::string_view s);

}  // namespace cpa
