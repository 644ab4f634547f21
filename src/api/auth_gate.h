// The authentication gate: the one place that turns an Authorization header
// into a user or a 401 (API.md §1).
#pragma once

#include "api/context.h"

namespace cpa::api {

// Authenticates `call` from "Authorization: Bearer <access token>" (or the
// "JWT" prefix). No header, or another scheme: 401 "credentials were not
// provided". A bad, expired, revoked, refresh-type token, or one whose user is
// inactive or gone: 401 "Given token not valid for any token type".
Status authenticate(Call& call);

// Authentication redone inside the write transaction that acts on it: the
// access token may have been revoked (a password change, a logout) or its
// user deactivated since the gate let the request in, while it hashed.
// Refreshes call.user from the row as it is now; 401 as authenticate().
Status reauthenticate(Call& call);

// Whether the client (nginx's REMOTE_ADDR) may use the operators' routes
// (Access::kOperator: metrics/): an address in AUTH_METRICS_ALLOW.
bool operator_allowed(const http::Request& request, const Config& config);

}  // namespace cpa::api
