#include "http/router.h"

#include "core/strings.h"

namespace cpa::http {

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

bool match_pattern(std::string_view pattern, std::string_view path, std::vector<int64_t>* ids) {
  if (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  for (;;) {
    size_t ps = pattern.find('/');
    size_t qs = path.find('/');
    std::string_view pseg = pattern.substr(0, ps);
    std::string_view qseg = path.substr(0, qs);
    if (pseg.size() >= 2 && pseg.front() == '<' && pseg.back() == '>') {
      std::optional<int64_t> id = qseg.size() <= 18 ? parse_decimal(qseg) : std::nullopt;
      if (!id) return false;
      ids->push_back(*id);
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
