// The route table: the single source of truth for every endpoint's path,
// method, handler and access (after Redis's command table). The router, the
// 405 Allow header and the authentication gate all read it.
#pragma once

#include <span>
#include <string_view>

#include "api/context.h"

namespace cpa::api {

enum class Access {
  kPublic,  // ignores the Authorization header, even a malformed one
  kUser,    // 🔒 needs a valid access token of an active user
};

struct Route {
  std::string_view pattern;  // relative to /api/v1/auth/, e.g. "users/<id>/"
  std::string_view method;
  Handler handler;
  Access access;
  // The handler checks the database itself and answers in its own shape
  // (health/); for every other route the dispatcher answers 503 first.
  bool reports_database = false;
};

std::span<const Route> routes();

}  // namespace cpa::api
