// Tokens (API.md §4): token/obtain/, token/verify/, token/refresh/,
// token/blacklist/.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> obtain_token(Call& call);
Result<http::Response> verify_token(Call& call);
Result<http::Response> refresh_token(Call& call);
Result<http::Response> blacklist_token(Call& call);

}  // namespace cpa::api
