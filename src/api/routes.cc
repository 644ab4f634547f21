#include "api/routes.h"

#include <algorithm>
#include <array>
#include <vector>

#include "api/email_change.h"
#include "api/health.h"
#include "api/metrics.h"
#include "api/pin.h"
#include "api/recovery.h"
#include "api/reference.h"
#include "api/registration.h"
#include "api/sessions.h"
#include "api/tokens.h"
#include "api/users.h"
#include "http/router.h"
#include "metrics/counters.h"

namespace cpa::api {
namespace {

constexpr Route kRoutes[] = {
    // pattern, method, handler, access, cost, database
    // §3 registration, §7 users
    {"users/", "GET", list_users, Access::kUser},
    {"users/", "POST", register_user, Access::kPublic},
    {"users/me/", "GET", get_user, Access::kUser},
    {"users/me/", "PUT", update_user, Access::kUser},
    {"users/me/", "PATCH", update_user, Access::kUser},
    {"users/me/", "DELETE", delete_user, Access::kUser, Cost::kHash},
    {"users/set_password/", "POST", set_password, Access::kUser, Cost::kHash},
    {"users/<id>/", "GET", get_user, Access::kUser},
    {"users/<id>/", "PUT", update_user, Access::kUser},
    {"users/<id>/", "PATCH", update_user, Access::kUser},
    {"users/<id>/", "DELETE", delete_user, Access::kUser, Cost::kHash},
    {"verify-code/", "POST", verify_code, Access::kPublic},
    {"public-set-password/", "POST", public_set_password, Access::kPublic, Cost::kHash},
    {"resend-code/", "POST", resend_code, Access::kPublic},
    // §4 tokens
    {"token/obtain/", "POST", obtain_token, Access::kPublic, Cost::kHash},
    {"token/verify/", "POST", verify_token, Access::kPublic},
    {"token/refresh/", "POST", refresh_token, Access::kPublic},
    {"token/blacklist/", "POST", blacklist_token, Access::kPublic},
    // §5 recovery
    {"recovery-request/", "POST", recovery_request, Access::kPublic},
    {"recovery-reset-password/", "POST", recovery_reset_password, Access::kPublic,
     Cost::kHash},
    // §6 PIN and email change
    {"set-pin/", "POST", set_pin, Access::kUser, Cost::kHash},
    {"verify-pin/", "POST", verify_pin, Access::kUser, Cost::kHash},
    {"reset-pin-request/", "POST", reset_pin_request, Access::kUser},
    {"reset-pin-verify/", "POST", reset_pin_verify, Access::kUser, Cost::kHash},
    {"reset-email-request/", "POST", reset_email_request, Access::kUser, Cost::kHash},
    {"reset-email-verify/", "POST", reset_email_verify, Access::kUser},
    // §9 sessions
    {"sessions/", "GET", list_sessions, Access::kUser},
    {"sessions/", "DELETE", end_other_sessions, Access::kUser},
    {"sessions/<id:hex32>/", "DELETE", end_session, Access::kUser},
    // §8 operations
    {"health/", "GET", health, Access::kPublic, Cost::kCheap, Database::kReported,
     Throttle::kNone},
    {"schema/", "GET", openapi_document, Access::kPublic, Cost::kCheap, Database::kUnused},
    {"docs/", "GET", docs_page, Access::kPublic, Cost::kCheap, Database::kUnused},
    {"metrics/", "GET", get_metrics, Access::kOperator, Cost::kCheap, Database::kReported},
};

constexpr size_t kRouteCount = std::size(kRoutes);

// Each route's pattern slot, and the patterns, worked out at compile time.
struct Patterns {
  std::array<size_t, kRouteCount> slot_of{};
  std::array<std::string_view, kRouteCount> names{};
  size_t count = 0;
};

constexpr Patterns index_patterns() {
  Patterns p;
  for (size_t i = 0; i < kRouteCount; ++i) {
    size_t slot = p.count;
    for (size_t j = 0; j < p.count; ++j)
      if (p.names[j] == kRoutes[i].pattern) slot = j;
    if (slot == p.count) p.names[p.count++] = kRoutes[i].pattern;
    p.slot_of[i] = slot;
  }
  return p;
}

constexpr Patterns kPatterns = index_patterns();
static_assert(kPatterns.count <= metrics::kMaxRoutes,
              "more route patterns than the metrics counters have room for: raise kMaxRoutes");

}  // namespace

std::span<const Route> routes() { return kRoutes; }

std::string route_listing() {
  std::string out;
  for (const Route& r : kRoutes) {
    out.append(r.method).append("\t").append(r.pattern).append("\t");
    out.append(r.access == Access::kUser ? "user" : "public").append("\n");
  }
  return out;
}

std::span<const std::string_view> route_patterns() {
  return std::span<const std::string_view>(kPatterns.names.data(), kPatterns.count);
}

size_t pattern_slot(const Route& route) { return kPatterns.slot_of[&route - kRoutes]; }
namespace {

// "users/<id>/" as nginx sees the path: "/api/v1/auth/users/[0-9]{1,18}",
// without its trailing slash (the caller makes it optional).
std::string nginx_path_regex(std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  std::string out(http::kApiPrefix);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '<') {  // "<id>", "<id:hex32>"
      const size_t end = pattern.find('>', i);
      out += http::param_regex(pattern.substr(i, end + 1 - i));
      i = end;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

}  // namespace

std::string hash_routes_regex() {
  std::string alternatives;
  for (const Route& r : kRoutes) {
    if (r.cost != Cost::kHash) continue;
    if (!alternatives.empty()) alternatives += '|';
    alternatives.append(r.method).append(" ").append(nginx_path_regex(r.pattern));
  }
  return "^(" + alternatives + ")/?$";
}

std::string unthrottled_routes_regex() {
  auto unthrottled = [](const Route& r) {
    return r.access == Access::kUser || r.throttle == Throttle::kNone;
  };
  std::string alternatives;
  std::vector<std::string_view> written;
  for (const Route& r : kRoutes) {
    if (std::find(written.begin(), written.end(), r.pattern) != written.end()) continue;
    written.push_back(r.pattern);
    bool all = true;
    for (const Route& other : kRoutes)
      if (other.pattern == r.pattern) all &= unthrottled(other);
    if (!all) continue;
    std::string path = nginx_path_regex(r.pattern);
    path.erase(0, http::kApiPrefix.size());
    if (!alternatives.empty()) alternatives += '|';
    alternatives.append(path);
  }
  return "^" + std::string(http::kApiPrefix) + "(" + alternatives + ")/?$";
}

std::string cors_methods_map() {
  std::string out = "map $uri $cpa_cors_route_methods {\n";
  std::vector<std::string_view> written;  // one entry a path, in the table's order
  for (const Route& r : kRoutes) {
    if (std::find(written.begin(), written.end(), r.pattern) != written.end()) continue;
    written.push_back(r.pattern);
    std::vector<const Route*> siblings;
    for (const Route& other : kRoutes)
      if (other.pattern == r.pattern) siblings.push_back(&other);
    out.append("    \"~^").append(nginx_path_regex(r.pattern)).append("/?$\" \"");
    out.append(http::allowed_methods(siblings)).append("\";\n");
  }
  return out + "    default \"\";\n}\n";
}

}  // namespace cpa::api
