// GET schema/ and GET docs/ (API.md §8): the OpenAPI document of the contract
// (docs/openapi.json) and the Swagger UI page that renders it. Both are
// compiled into the binary, as schema.sql is; the page's scripts and styles
// are files nginx serves (docs/assets/, see README), never a CDN.
#pragma once

#include "api/context.h"

namespace cpa::api {

// 200, Content-Type: application/vnd.oai.openapi+json.
Result<http::Response> openapi_document(Call& call);

// 200, the Swagger UI page (docs/ui/index.html), text/html.
Result<http::Response> docs_page(Call& call);

}  // namespace cpa::api
