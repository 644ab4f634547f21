#include "api/reference.h"

#include <string_view>

namespace cpa::api {

extern const std::string_view kOpenApiJson;  // docs/openapi.json
extern const std::string_view kDocsPageHtml;  // docs/ui/index.html

namespace {

http::Response text_response(std::string_view body, const char* content_type) {
  http::Response r = http::Response::Json(200, std::string(body));
  r.content_type = content_type;
  return r;
}

}  // namespace

Result<http::Response> openapi_document(Call&) {
  return text_response(kOpenApiJson, "application/vnd.oai.openapi+json");
}

Result<http::Response> docs_page(Call&) {
  return text_response(kDocsPageHtml, "text/html; charset=utf-8");
}

}  // namespace cpa::api
