// Dispatch: one request through the router, the authentication gate and a
// handler, to a Response. Every error leaves through http::render_error.
#pragma once

#include "api/context.h"
#include "http/request.h"
#include "http/response.h"

namespace cpa::api {

http::Response dispatch(const http::Request& request, Services& services);

// Whether the request's route spends a password or PIN hash (Cost::kHash).
// The worker serves those outside a group commit: a group holds the writer
// lock, and must never hold it across a hash.
bool spends_hash(const http::Request& request);

}  // namespace cpa::api
