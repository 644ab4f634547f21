#include "http/router.h"

#include "core/strings.h"

namespace cpa::http {
namespace {

constexpr std::string_view kHex32Suffix = ":hex32>";

bool is_hex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string_view param_regex(std::string_view param) {
  return param.ends_with(kHex32Suffix) ? "[0-9a-f]{32}" : "[0-9]{1,18}";
}

bool api_relative_path(std::string_view path, std::string_view* out) {
  if (path.size() < kApiPrefix.size()) {
    // "/api/v1/auth" itself is not a route.
    return false;
  }
  if (path.substr(0, kApiPrefix.size()) != kApiPrefix) return false;
  std::string_view rel = path.substr(kApiPrefix.size());
  if (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel.empty()) return false;
  *out = rel;
  return true;
}

bool match_pattern(std::string_view pattern, std::string_view path, PathArgs* args) {
  if (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  for (;;) {
    size_t ps = pattern.find('/');
    size_t qs = path.find('/');
    std::string_view pseg = pattern.substr(0, ps);
    std::string_view qseg = path.substr(0, qs);
    if (pseg.size() >= 2 && pseg.front() == '<' && pseg.back() == '>') {
      if (pseg.ends_with(kHex32Suffix)) {
        if (!is_hex32(qseg)) return false;
        args->hex_ids.emplace_back(qseg);
      } else {
        std::optional<int64_t> id = qseg.size() <= 18 ? parse_decimal(qseg) : std::nullopt;
        if (!id) return false;
        args->ids.push_back(*id);
      }
    } else if (pseg != qseg) {
      return false;
    }
    if (ps == std::string_view::npos || qs == std::string_view::npos)
      return ps == std::string_view::npos && qs == std::string_view::npos;
    pattern.remove_prefix(ps + 1);
    path.remove_prefix(qs + 1);
  }
}

}  // namespace cpa::http
