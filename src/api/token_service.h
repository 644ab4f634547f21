// Issuing and recording JWTs (API.md §4). Every token issued gets a row in
// the store (jti, user, type, family, expiry) so that rotation, reuse
// detection, logout and "revoke everything before a password change" work,
// and a well-signed token with no row is refused.
//
// Minting (signing) is pure CPU and happens before the write transaction;
// only recording the rows happens inside it, so the lock is held briefly.
#pragma once

#include <string>

#include "api/context.h"

namespace cpa::api {

struct MintedTokens {
  std::string access;
  std::string refresh;
  store::Token access_row;
  store::Token refresh_row;

  // The rows continue `family` (token/refresh/) instead of starting one. The
  // family is in the rows only, never in the signed tokens.
  void join_family(const std::string& family) { access_row.family = refresh_row.family = family; }
};

// A new refresh + access pair for `user_id`, its rows starting a family named
// after the new refresh token.
MintedTokens mint_tokens(Call& call, int64_t user_id);

// Records both rows, and the use of their session (API.md §9): created by
// token/obtain/; by token/refresh/ given its new newest refresh token, the
// time, the client address and User-Agent. Must run inside write().
Status record_tokens(Call& call, const MintedTokens& tokens);

}  // namespace cpa::api
