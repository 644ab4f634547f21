#include "api/health.h"

#include <string>

#include "core/log.h"
#include "http/json.h"

namespace cpa::api {

Result<http::Response> health(Call& call) {
  store::Store& store = call.svc.store;
  Status db = store.check_file();
  Result<store::MailCounts> counts = db.ok() ? store.mail_counts() : Result<store::MailCounts>(db);
  if (!counts.ok()) {
    // The body says what kind of trouble ("database is locked", "cannot
    // connect to PostgreSQL"): the reason up to its first colon. What
    // follows (a socket path, a host, libpq's words) and any other
    // failure's reason, which may quote SQL, go to the log only.
    Status down = counts.status();
    std::string reason = "error";
    if (down.kind() == Status::Kind::kUnavailable) {
      reason = down.reason().substr(0, down.reason().find(':'));
      if (reason != down.reason()) log::warn("health: " + down.reason());
    } else {
      log::warn("health: " + down.reason());
    }
    http::JsonWriter w;
    w.begin_object().field("status", "unavailable").field("database", reason).end_object();
    http::Response r = http::Response::Json(503, w.str());
    r.set_header("Retry-After", std::to_string(down.retry_after()));
    return r;
  }
  http::JsonWriter w;
  w.begin_object().field("status", "ok").field("database", "ok").key("mail_queue").begin_object();
  w.field("pending", counts->pending).field("failed", counts->failed).end_object().end_object();
  return http::Response::Json(200, w.str());
}

}  // namespace cpa::api
