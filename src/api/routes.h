// The route table: the single source of truth for every endpoint's path,
// method, handler and access (after Redis's command table). The router, the
// 405 Allow header and the authentication gate all read it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "api/context.h"

namespace cpa::api {

enum class Access {
  kPublic,  // ignores the Authorization header, even a malformed one
  kUser,    // 🔒 needs a valid access token of an active user
  // Only clients in AUTH_METRICS_ALLOW; to any other the path does not
  // exist: 404 whatever the method, before 405 (API.md §8).
  kOperator,
};

enum class Cost {
  kCheap,
  // Spends a password or PIN hash (tens to hundreds of milliseconds of CPU).
  // nginx sends these to a pool of their own, so that logins saturating the
  // CPU never queue the cheap routes behind them.
  kHash,
};

enum class Database {
  // The dispatcher checks the database file first and answers 503 when it is
  // gone, before the handler runs.
  kChecked,
  // The handler checks it itself and answers in its own shape (health/).
  kReported,
  // The handler never reads it (schema/, docs/): served whatever its state.
  kUnused,
};

// Whether nginx holds a route to its per-address limit of anonymous requests
// (cpa_anon). 🔒 routes never are: the service limits their guesses itself
// (PIN strikes, password checks, the hash budget).
enum class Throttle {
  kPerAddress,
  kNone,  // a public route as cheap and harmless as health/
};

struct Route {
  std::string_view pattern;  // relative to /api/v1/auth/, e.g. "users/<id>/"
  std::string_view method;
  Handler handler;
  Access access;
  Cost cost = Cost::kCheap;
  Database database = Database::kChecked;
  Throttle throttle = Throttle::kPerAddress;  // public routes only; see Throttle
};

std::span<const Route> routes();

// The table as text, one route a line: "METHOD<TAB>pattern<TAB>public|user"
// (`cryptopay-auth routes`; tests/openapi holds docs/openapi.json to it).
std::string route_listing();

// The route label of metrics/: each pattern of the table once, in table
// order; a route's slot in the counters is its pattern's place here.
std::span<const std::string_view> route_patterns();
size_t pattern_slot(const Route& route);

// The nginx map key regex that picks the hashing pool: every kHash route as
// "METHOD /api/v1/auth/path", e.g. ^(POST /api/v1/auth/token/obtain|...)/?$.
// `run` renders it into nginx's config; the production site file carries a
// copy that a unit test keeps equal to this.
std::string hash_routes_regex();

// The nginx map from a request's $uri to its route's methods, as a 405's
// Allow lists them: a CORS preflight's Access-Control-Allow-Methods (API.md
// §1), and empty for a path that is no route. `run` renders it into its
// nginx's config; the production snippet nginx/cryptopay-auth-cors-methods.conf
// carries a copy that a unit test keeps equal to this.
std::string cors_methods_map();

// The regex of nginx's location for the paths held to no per-address limit:
// every path whose routes are all 🔒 or Throttle::kNone, e.g.
// ^/api/v1/auth/(users/me|...|health)/?$ (quoted in nginx: it has braces).
// `run` renders it; the production site file carries a copy that a unit
// test keeps equal to this.
std::string unthrottled_routes_regex();

}  // namespace cpa::api
