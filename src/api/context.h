// What a handler works with: the request, the process's services, and (on 🔒
// routes) the authenticated user. One handler signature for every route:
//   Result<http::Response> handler(Call& call);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/keys.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "core/status.h"
#include "http/body.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "metrics/counters.h"
#include "store/store.h"

namespace cpa::api {

// The process's long-lived parts, built once at worker start.
struct Services {
  const Config& config;
  store::Store& store;
  const Clock& clock;
  Rng& rng;
  const auth::Keys& keys;
  // The service's shared counters (metrics/counters.h), which metrics/
  // reads; null where there are none (tests, the command line).
  const metrics::Counters* counters = nullptr;
};

class Call {
 public:
  Call(const http::Request& req, Services& services, http::PathArgs path_args,
       metrics::Tally& request_tally)
      : request(req), svc(services), args(std::move(path_args)), tally(request_tally) {}

  const http::Request& request;
  Services& svc;
  http::PathArgs args;                   // the "<id>" segments of the path
  std::optional<store::User> user;       // set by the gate on 🔒 routes
  std::string access_jti;                // the access token the gate accepted
  std::string session_id;                // its family: the caller's session (API.md §9)
  // What the request did, for metrics/: counted by the handlers, added to
  // the shared counters by the worker once the request is answered.
  metrics::Tally& tally;

  // The client address nginx saw (REMOTE_ADDR): what per-address limits and
  // the first-password rule (API.md §3, §4) key on.
  const std::string& client_ip() const { return request.remote_addr; }

  // The parsed body (API.md §1), parsed on first use: a handler that takes no
  // body never fails on one.
  Result<const http::Body*> body();

  int64_t now() const { return svc.clock.now(); }

 private:
  std::optional<http::Body> body_;
};

using Handler = Result<http::Response> (*)(Call&);

}  // namespace cpa::api
