// Dispatch: one request through the router, the authentication gate and a
// handler, to a Response. Every error leaves through http::render_error.
#pragma once

#include "api/context.h"
#include "api/routes.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace cpa::api {

using RouteMatch = http::Router<Route>::Match;

// The request's place in the route table, found once per request: the
// worker looks at it before dispatching.
RouteMatch resolve(const http::Request& request);

// Whether the matched route spends a password or PIN hash (Cost::kHash).
// The worker serves those outside a group commit: a group holds the writer
// lock, and must never hold it across a hash.
inline bool spends_hash(const RouteMatch& match) {
  return match.route != nullptr && match.route->cost == Cost::kHash;
}

http::Response dispatch(const http::Request& request, RouteMatch match,
                        Services& services);

}  // namespace cpa::api
