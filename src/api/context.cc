#include "api/context.h"

namespace cpa::api {

Result<const http::Body*> Call::body() {
  if (!body_) {
    Result<http::Body> parsed = http::parse_body(request.content_type, request.body);
    if (!parsed.ok()) return parsed.status();
    body_ = std::move(parsed.value());
  }
  return &*body_;
}

}  // namespace cpa::api
