// Issuing and recording JWTs (API.md §4). Every token issued gets a row in
// the store (jti, user, type, family, expiry) so that rotation, reuse
// detection, logout and "revoke everything before a password change" work,
// and a well-signed token with no row is refused.
#pragma once

#include <string>

#include "api/context.h"

namespace cpa::api {

struct TokenPair {
  std::string access;
  std::string refresh;
};

// A new refresh + access pair for `user`. `family` is the family to continue
// (token/refresh/); empty starts a new one named after the new refresh token
// (token/obtain/). Must run inside write().
Result<TokenPair> issue_tokens(Call& call, int64_t user_id, const std::string& family);

}  // namespace cpa::api
