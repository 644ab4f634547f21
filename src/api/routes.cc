#include "api/routes.h"

#include "api/email_change.h"
#include "api/health.h"
#include "api/pin.h"
#include "api/recovery.h"
#include "api/registration.h"
#include "api/tokens.h"
#include "api/users.h"

namespace cpa::api {
namespace {

constexpr Route kRoutes[] = {
    // pattern, method, handler, access, reports_database
    // §3 registration, §7 users
    {"users/", "GET", list_users, Access::kUser},
    {"users/", "POST", register_user, Access::kPublic},
    {"users/me/", "GET", get_user, Access::kUser},
    {"users/me/", "PUT", update_user, Access::kUser},
    {"users/me/", "PATCH", update_user, Access::kUser},
    {"users/me/", "DELETE", delete_user, Access::kUser},
    {"users/set_password/", "POST", set_password, Access::kUser},
    {"users/<id>/", "GET", get_user, Access::kUser},
    {"users/<id>/", "PUT", update_user, Access::kUser},
    {"users/<id>/", "PATCH", update_user, Access::kUser},
    {"users/<id>/", "DELETE", delete_user, Access::kUser},
    {"verify-code/", "POST", verify_code, Access::kPublic},
    {"public-set-password/", "POST", public_set_password, Access::kPublic},
    {"resend-code/", "POST", resend_code, Access::kPublic},
    // §4 tokens
    {"token/obtain/", "POST", obtain_token, Access::kPublic},
    {"token/verify/", "POST", verify_token, Access::kPublic},
    {"token/refresh/", "POST", refresh_token, Access::kPublic},
    {"token/blacklist/", "POST", blacklist_token, Access::kPublic},
    // §5 recovery
    {"recovery-request/", "POST", recovery_request, Access::kPublic},
    {"recovery-reset-password/", "POST", recovery_reset_password, Access::kPublic},
    // §6 PIN and email change
    {"set-pin/", "POST", set_pin, Access::kUser},
    {"verify-pin/", "POST", verify_pin, Access::kUser},
    {"reset-pin-request/", "POST", reset_pin_request, Access::kUser},
    {"reset-pin-verify/", "POST", reset_pin_verify, Access::kUser},
    {"reset-email-request/", "POST", reset_email_request, Access::kUser},
    {"reset-email-verify/", "POST", reset_email_verify, Access::kUser},
    // §8 operations
    {"health/", "GET", health, Access::kPublic, true},
};

}  // namespace

std::span<const Route> routes() { return kRoutes; }

}  // namespace cpa::api
