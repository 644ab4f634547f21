// GET metrics/ (API.md §8): the service's counters in Prometheus's text
// format, for the clients AUTH_METRICS_ALLOW lists (the dispatcher answers
// everyone else 404 before this runs).
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> get_metrics(Call& call);

}  // namespace cpa::api
