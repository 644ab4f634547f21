// Dispatch: one request through the router, the authentication gate and a
// handler, to a Response. Every error leaves through http::render_error.
#pragma once

#include "api/context.h"
#include "api/routes.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "metrics/counters.h"

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

// The request's slot in the metrics counters: its route pattern's, or
// metrics::kUnknownRoute when no route has its path.
size_t metrics_route_slot(const RouteMatch& match);

// `tally` receives what the request did (metrics/counters.h).
http::Response dispatch(const http::Request& request, RouteMatch match, Services& services,
                        metrics::Tally& tally);

}  // namespace cpa::api
