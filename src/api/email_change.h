// Changing the account's email (API.md §6): reset-email-request/ sends a code
// to the new address; reset-email-verify/ switches to it. Both 🔒.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> reset_email_request(Call& call);
Result<http::Response> reset_email_verify(Call& call);

}  // namespace cpa::api
