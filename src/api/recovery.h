// Account recovery (API.md §5): recovery-request/, recovery-reset-password/.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> recovery_request(Call& call);
Result<http::Response> recovery_reset_password(Call& call);

}  // namespace cpa::api
