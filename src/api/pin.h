// The payment PIN (API.md §6): set-pin/, verify-pin/, reset-pin-request/,
// reset-pin-verify/. All 🔒.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> set_pin(Call& call);
Result<http::Response> verify_pin(Call& call);
Result<http::Response> reset_pin_request(Call& call);
Result<http::Response> reset_pin_verify(Call& call);

}  // namespace cpa::api
