#include "http/render.h"

#include "http/json.h"

namespace cpa::http {

Response render_error(const Status& status) {
  JsonWriter w;
  w.begin_object();
  if (status.kind() == Status::Kind::kValidation) {
    for (const auto& [field, messages] : status.field_errors().fields) {
      w.key(field).begin_array();
      for (const std::string& m : messages) w.value(m);
      w.end_array();
    }
  } else {
    w.field("detail", status.detail());
    if (!status.code().empty()) w.field("code", status.code());
  }
  w.end_object();

  Response r = Response::Json(status.http_status(), w.str());
  if (status.wants_authenticate_header()) r.set_header("WWW-Authenticate", "Bearer realm=\"api\"");
  if (status.retry_after() > 0) r.set_header("Retry-After", std::to_string(status.retry_after()));
  if (!status.allow().empty()) r.set_header("Allow", status.allow());
  return r;
}

}  // namespace cpa::http
