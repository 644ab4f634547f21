// Sessions (API.md §9): the caller's logins, each a token/obtain/ and every
// token refreshed from it. All 🔒. sessions/ (GET: list, DELETE: every
// session but the current one) and sessions/<id>/ (DELETE: that one).
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> list_sessions(Call& call);
Result<http::Response> end_session(Call& call);
Result<http::Response> end_other_sessions(Call& call);

}  // namespace cpa::api
