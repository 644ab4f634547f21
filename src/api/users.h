// Djoser's user endpoints (API.md §7): users/ (GET; POST is registration),
// users/me/ and users/<id>/ (GET, PUT, PATCH, DELETE), users/set_password/.
// All 🔒. A non-staff caller sees only itself; another id is 404.
#pragma once

#include "api/context.h"

namespace cpa::api {

Result<http::Response> list_users(Call& call);
Result<http::Response> get_user(Call& call);
Result<http::Response> update_user(Call& call);  // PUT and PATCH
Result<http::Response> delete_user(Call& call);
Result<http::Response> set_password(Call& call);

}  // namespace cpa::api
