// Dispatch: one request through the router, the authentication gate and a
// handler, to a Response. Every error leaves through http::render_error.
#pragma once

#include "api/context.h"
#include "http/request.h"
#include "http/response.h"

namespace cpa::api {

http::Response dispatch(const http::Request& request, Services& services);

}  // namespace cpa::api
