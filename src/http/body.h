// Body: a request body parsed into top-level fields (API.md §1).
//
// application/json (RapidJSON, SAX: bounded nesting, UTF-8 validated, each
// value kept with the text Python's str() gives it),
// application/x-www-form-urlencoded and multipart/form-data (cgicc) all
// yield the same Body. An empty body is {}.
// Files in a multipart body are ignored.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cpa::http {

inline constexpr size_t kMaxBodyBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 32;

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  // kString: the string; any other kind (from JSON): str() of the value as
  // Python's json.loads makes it: "None", "True", "1.5" for 1.50, "['a', 1]".
  std::string text;
  bool boolean = false;
};

class Body {
 public:
  // Last value wins for a repeated name, as in Python's json and QueryDict.get.
  void set(std::string name, Value value);
  const Value* find(std::string_view name) const;
  size_t size() const { return fields_.size(); }

 private:
  // By name: a body of thousands of distinct names costs n log n, not n².
  std::map<std::string, Value, std::less<>> fields_;
};

// Parses `body` according to `content_type` (as sent, parameters included).
// Errors: 415 for other media types, 400 "JSON parse error - ..." for bad JSON
// or a top level that is not an object, 400 for a malformed multipart body.
Result<Body> parse_body(std::string_view content_type, std::string_view body);

using FormPairs = std::vector<std::pair<std::string, std::string>>;

// The pairs of an application/x-www-form-urlencoded text (a body or a query
// string), in order, repeats kept, decoded as Django's QueryDict decodes
// them: one parser for both, so a query and a form body never disagree.
FormPairs parse_urlencoded(std::string_view text);

// The media type of a Content-Type value: lower-cased, parameters dropped.
std::string media_type(std::string_view content_type);

}  // namespace cpa::http
