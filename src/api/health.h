// GET health/ (API.md §8).
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> health(Call& call);

}  // namespace cpa::api
