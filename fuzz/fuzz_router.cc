// fuzz_router: the route table (api/routes.cc) behind http::Router, plus the
// URL helpers a request goes through.
//
// Input layout: "<method> <path>[?<query>]", split at the first space (no
// space: the whole input is the path, method GET).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/routes.h"
#include "http/request.h"
#include "http/router.h"

namespace {

size_t id_segments(std::string_view pattern) {
  size_t n = 0;
  for (size_t at = pattern.find('<'); at != std::string_view::npos; at = pattern.find('<', at + 1))
    ++n;
  return n;
}

bool is_hex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cpa::api::Route;
  static const cpa::http::Router<Route> router(cpa::api::routes().data(),
                                               cpa::api::routes().data() +
                                                   cpa::api::routes().size());
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t space = input.find(' ');
  const std::string_view method = space == std::string_view::npos ? "GET" : input.substr(0, space);
  const std::string_view target = space == std::string_view::npos ? input : input.substr(space + 1);
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);

  cpa::http::Request request;
  request.method = std::string(method);
  request.raw_path = std::string(raw_path);
  request.path = cpa::http::url_decode(raw_path);
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));

  // As the dispatcher does, on the decoded path; and on the path as sent.
  const std::string_view paths[] = {request.path, raw_path};
  for (const std::string_view path : paths) {
    const auto match = router.find(request.method, path);
    if (match.route != nullptr) {
      const std::string_view want =
          request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
      if (match.route->method != want || !match.path_found()) __builtin_trap();
    }
    if (match.path_found()) {
      if (match.allow().empty()) __builtin_trap();
      const cpa::http::PathArgs& args = match.args;
      if (args.ids.size() + args.hex_ids.size() != id_segments(match.siblings.front()->pattern))
        __builtin_trap();
      for (const int64_t id : args.ids)
        if (id < 0) __builtin_trap();
      for (const std::string& id : args.hex_ids)
        if (!is_hex32(id)) __builtin_trap();
    } else if (match.route != nullptr || !match.allow().empty() || !match.args.ids.empty() ||
               !match.args.hex_ids.empty()) {
      __builtin_trap();
    }

    std::string_view rel;
    if (cpa::http::api_relative_path(path, &rel)) {
      if (rel.empty() || rel.size() >= path.size()) __builtin_trap();
      for (const Route& route : cpa::api::routes()) {
        cpa::http::PathArgs args;
        (void)cpa::http::match_pattern(route.pattern, rel, &args);
      }
    }
  }
  // match_pattern on raw input, against the real patterns and as a pattern.
  for (const Route& route : cpa::api::routes()) {
    cpa::http::PathArgs args;
    (void)cpa::http::match_pattern(route.pattern, target, &args);
    args = {};
    (void)cpa::http::match_pattern(target, route.pattern, &args);
  }

  const std::string decoded = cpa::http::url_decode(input);
  if (decoded.size() > input.size()) __builtin_trap();
  (void)request.query_params();
  (void)request.query_param("email");
  (void)cpa::http::is_sane_request_id(input);
  return 0;
}
