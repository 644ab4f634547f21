#include "api/dispatch.h"

#include "api/auth_gate.h"
#include "api/credentials.h"
#include "core/log.h"
#include "http/render.h"

namespace cpa::api {
namespace {

const http::Router<Route>& router() {
  static const http::Router<Route> r(routes().data(), routes().data() + routes().size());
  return r;
}

http::Response fail(const Status& status, const http::Request& request) {
  if (status.is_storage_failure()) {
    log::warn("rid=" + request.request_id + " storage: " + status.reason());
  }
  return http::render_error(status);
}

}  // namespace

RouteMatch resolve(const http::Request& request) {
  return router().find(request.method, request.path);
}

size_t metrics_route_slot(const RouteMatch& match) {
  return match.path_found() ? pattern_slot(*match.siblings.front()) : metrics::kUnknownRoute;
}

http::Response dispatch(const http::Request& request, RouteMatch match, Services& services,
                        metrics::Tally& tally) {
  if (!match.path_found()) return fail(Status::NotFound(), request);
  // An operator's path does not exist for anyone else, whatever the method.
  if (match.siblings.front()->access == Access::kOperator &&
      !operator_allowed(request, services.config)) {
    return fail(Status::NotFound(), request);
  }

  // A path whose every route is 🔒 checks credentials before answering 405.
  bool all_protected = true;
  for (const Route* r : match.siblings) all_protected &= r->access == Access::kUser;
  const Route* route = match.route;
  bool needs_user = route ? route->access == Access::kUser : all_protected;

  Call call(request, services, std::move(match.args), tally);
  if (needs_user || (route && route->database == Database::kChecked)) {
    // The database file may have been removed or replaced: find out before
    // reading from it, and answer 503 rather than serve a stale inode.
    Status db = services.store.check_file();
    if (!db.ok()) return fail(db, request);
  }
  if (needs_user) {
    Status auth = authenticate(call);
    if (!auth.ok()) return fail(auth, request);
  }
  if (!route) return fail(Status::MethodNotAllowed(request.method, match.allow()), request);
  if (needs_user && route->cost == Cost::kHash) {
    Status budget = spend_account_hash(call);
    if (!budget.ok()) return fail(budget, request);
  }

  Result<http::Response> result = route->handler(call);
  if (!result.ok()) return fail(result.status(), request);
  return std::move(result.value());
}

}  // namespace cpa::api
