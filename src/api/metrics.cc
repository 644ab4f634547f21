#include "api/metrics.h"

#include "api/routes.h"
#include "core/log.h"
#include "core/version.h"
#include "metrics/render.h"

namespace cpa::api {

Result<http::Response> get_metrics(Call& call) {
  if (call.svc.counters == nullptr) return Status::NotFound();  // a process without counters
  store::Store& store = call.svc.store;
  metrics::Scrape scrape{.version = version(), .routes = route_patterns(), .mail_queue = {}};
  // The outbox is read now; when the database cannot be read the counters
  // are still worth having, and the readable gauge says what is missing.
  Status db = store.check_file();
  Result<store::MailCounts> counts = db.ok() ? store.mail_counts() : Result<store::MailCounts>(db);
  if (counts.ok()) {
    scrape.mail_queue =
        metrics::MailQueue{counts->pending, counts->failed, counts->expired};
  } else {
    log::warn("metrics: outbox not read: " + counts.status().reason());
  }
  http::Response r = http::Response::Json(200, metrics::render(call.svc.counters->block(), scrape));
  r.content_type = std::string(metrics::kContentType);
  return r;
}

}  // namespace cpa::api
