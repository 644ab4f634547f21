#include "api/health.h"

#include "http/json.h"

namespace cpa::api {

Result<http::Response> health(Call& call) {
  store::Store& store = call.svc.store;
  Status db = store.check_file();
  Result<store::MailCounts> counts = db.ok() ? store.mail_counts() : Result<store::MailCounts>(db);
  if (!counts.ok()) {
    http::JsonWriter w;
    w.begin_object()
        .field("status", "unavailable")
        .field("database", counts.status().reason())
        .end_object();
    http::Response r = http::Response::Json(503, w.str());
    r.set_header("Retry-After", "5");
    return r;
  }
  http::JsonWriter w;
  w.begin_object().field("status", "ok").field("database", "ok").key("mail_queue").begin_object();
  w.field("pending", counts->pending).field("failed", counts->failed).end_object().end_object();
  return http::Response::Json(200, w.str());
}

}  // namespace cpa::api
