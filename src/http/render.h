// Rendering of errors: the one place that turns a Status into the DRF error
// bodies and headers of API.md §1 (after h2o's typed error senders).
#pragma once

#include "core/status.h"
#include "http/response.h"

namespace cpa::http {

Response render_error(const Status& status);

}  // namespace cpa::http
