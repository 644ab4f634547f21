// Registration (API.md §3): POST users/, verify-code/, public-set-password/,
// resend-code/.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> register_user(Call& call);
Result<http::Response> verify_code(Call& call);
Result<http::Response> public_set_password(Call& call);
Result<http::Response> resend_code(Call& call);

}  // namespace cpa::api
