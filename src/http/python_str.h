// Python's str() of the values json.loads gives, for the messages that echo
// a request's value (DRF's CharField takes str(number); ChoiceField says
// "\"<str(value)>\" is not a valid choice.").
#pragma once

#include <string>
#include <string_view>

namespace cpa::http {

// str() of a JSON number as Python parses it: an int as its digits ("-0" is
// "0"), anything with a fraction or exponent as repr(float) ("1.50" is
// "1.5", "1e3" is "1000.0", "1e400" is "inf").
std::string python_str_of_json_number(std::string_view json_number);

// repr() of a str, as Python writes it inside a list or dict: quoted with '
// (or " when only ' occurs), backslash escapes for what is not printable.
// Printable is judged exactly for ASCII and Latin-1 and for the common
// invisible characters beyond; unassigned code points are kept as they are.
void append_python_repr(std::string* out, std::string_view utf8);

}  // namespace cpa::http
