// Issuing and recording JWTs (API.md §4). Every token issued gets a row in
// the store (jti, user, type, family, expiry) so that rotation, reuse
// detection, logout and "revoke everything before a password change" work,
// and a well-signed token with no row is refused.
//
// Minting (signing) is pure CPU and happens before the write transaction;
// only recording the rows happens inside it, so the lock is held briefly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/context.h"
#include "auth/jwt.h"

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

// A JWT the client presented, decoded: signature, shape and `exp` checked
// (the one decode of the service). nullopt for anything else. `type`, when
// given, is the token_type it must have.
std::optional<auth::Claims> decode_token(const Call& call, std::string_view token,
                                         std::optional<std::string_view> type = std::nullopt);

// What the record of a presented token says of it.
enum class TokenState {
  kInvalid,  // no record, another type or user, or its user inactive or gone
  kRevoked,  // rotated, logged out, or revoked with the user's tokens
  kLive,
};

struct TokenRecord {
  TokenState state = TokenState::kInvalid;
  store::Token token;  // set unless kInvalid
  store::User user;    // likewise
};

// The one liveness check: reads the record of `jti` and judges it against
// the `type` and `user_id` the token claims. Every route that takes a token
// (the gate, verify, refresh, blacklist) decides through it.
Result<TokenRecord> read_token(Call& call, const std::string& jti, std::string_view type,
                               int64_t user_id);

// Records both rows, and the use of their session (API.md §9): created by
// token/obtain/; by token/refresh/ given its new newest refresh token, the
// time, the client address and User-Agent. Must run inside write().
Status record_tokens(Call& call, const MintedTokens& tokens);

}  // namespace cpa::api
