// FastCGI glue: a libfcgi request in, a Request out; a Response back.
// Nothing else in the service touches libfcgi's request streams.
#pragma once

#include <fcgiapp.h>

#include "core/random.h"
#include "http/request.h"
#include "http/response.h"

namespace cpa::http {

// Reads params and body. A body over kMaxBodyBytes is not read: *too_large
// is set and the caller answers 413. `rng` makes a request id when the
// client sent none (or an insane one). False when the body ends before its
// Content-Length (nginx gave up on the request): a cut body could read as
// another valid request, so it must not be served.
bool read_request(FCGX_Request& fcgi, Rng& rng, Request* out, bool* too_large);

// Reads what is left of the request body up to its end marker; true when
// the end was reached (nothing unread is left on the connection).
bool read_to_end(FCGX_Request& fcgi);

// Writes status, headers (Content-Type: application/json unless the response
// sets its own, Content-Length, X-Request-Id and the response's own) and,
// unless the method is HEAD, the body.
void write_response(FCGX_Request& fcgi, const Request& request, const Response& response);

}  // namespace cpa::http
