// Router: matches a request path against a route table (api/routes.cc).
//
// Paths live under kApiPrefix; a trailing slash is optional ("users" and
// "users/" are one route, no redirect). A "<name>" segment matches a decimal
// id; a "<name:hex32>" segment matches 32 lowercase hex digits (a session id,
// API.md §9). The router also knows, for a path, every method it serves: that
// is the Allow header of a 405 (HEAD wherever GET is; never OPTIONS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cpa::http {

inline constexpr std::string_view kApiPrefix = "/api/v1/auth/";

// The values of a path's parameter segments, each kind in path order.
struct PathArgs {
  std::vector<int64_t> ids;          // "<name>": decimal, at most 18 digits
  std::vector<std::string> hex_ids;  // "<name:hex32>": 32 lowercase hex digits
};

// Splits `path` (after the prefix, trailing slash removed) against `pattern`.
// On success appends the parameter segments' values to `args`.
bool match_pattern(std::string_view pattern, std::string_view path, PathArgs* args);

// What match_pattern accepts for the parameter segment `param` ("<id>",
// "<id:hex32>") as a regular expression, for nginx's copy of the routes.
std::string_view param_regex(std::string_view param);

// The path relative to kApiPrefix without its trailing slash; false when the
// path is outside the API.
bool api_relative_path(std::string_view path, std::string_view* out);

// The methods of one path's routes as a 405's Allow header lists them: GET,
// POST, PUT, PATCH, DELETE in that order, then HEAD when there is a GET; never
// OPTIONS. A CORS preflight's Access-Control-Allow-Methods says the same
// (api::cors_methods_map).
template <typename Route>
std::string allowed_methods(const std::vector<const Route*>& routes) {
  static constexpr std::string_view kOrder[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  std::string out;
  bool has_get = false;
  for (std::string_view candidate : kOrder) {
    for (const Route* r : routes) {
      if (r->method != candidate) continue;
      if (candidate == "GET") has_get = true;
      if (!out.empty()) out += ", ";
      out += candidate;
    }
  }
  if (has_get) out += ", HEAD";
  return out;
}

// Route must have `std::string_view pattern` and `std::string_view method`.
template <typename Route>
class Router {
 public:
  struct Match {
    const Route* route = nullptr;          // the route for this method, if any
    std::vector<const Route*> siblings;    // every route of the matched path
    PathArgs args;
    bool path_found() const { return !siblings.empty(); }

    // The Allow header of a 405. Built only for a 405.
    std::string allow() const { return allowed_methods(siblings); }
  };

  Router(const Route* begin, const Route* end) : begin_(begin), end_(end) {}

  Match find(std::string_view method, std::string_view path) const {
    Match m;
    std::string_view rel;
    if (!api_relative_path(path, &rel)) return m;
    std::string_view matched_pattern;
    for (const Route* r = begin_; r != end_; ++r) {
      if (!matched_pattern.empty() && r->pattern != matched_pattern) continue;
      if (matched_pattern.empty()) {
        PathArgs args;
        if (!match_pattern(r->pattern, rel, &args)) continue;
        matched_pattern = r->pattern;
        m.args = std::move(args);
      }
      m.siblings.push_back(r);
    }
    std::string_view want = method == "HEAD" ? std::string_view("GET") : method;
    for (const Route* r : m.siblings)
      if (r->method == want) m.route = r;
    return m;
  }

 private:
  const Route* begin_;
  const Route* end_;
};

}  // namespace cpa::http
