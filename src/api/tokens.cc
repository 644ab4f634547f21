#include "api/tokens.h"

#include "api/credentials.h"
#include "api/token_service.h"
#include "auth/password.h"
#include "core/email.h"
#include "http/fields.h"
#include "http/json.h"

namespace cpa::api {
namespace {

constexpr const char* kNoActiveAccount = "No active account found with the given credentials";

Status no_active_account() { return Status::Unauthorized(kNoActiveAccount); }

// The "refresh" field of token/refresh/ and token/blacklist/, decoded.
Result<auth::Claims> read_refresh_field(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> token = form.text("refresh");
  CPA_RETURN_IF_ERROR(form.status());
  std::optional<auth::Claims> claims = decode_token(call, *token, "refresh");
  if (!claims) return Status::TokenInvalidOrExpired();
  return std::move(*claims);
}

// The record of a refresh token presented to token/refresh/ or
// token/blacklist/: live or revoked (anything else is 401 invalid).
Result<TokenRecord> read_refresh_record(Call& call, const auth::Claims& claims) {
  CPA_ASSIGN_OR_RETURN(TokenRecord record, read_token(call, claims.jti, "refresh", claims.user_id));
  if (record.state == TokenState::kInvalid) return Status::TokenInvalidOrExpired();
  return record;
}

// A refresh token presented again within AUTH_REFRESH_REUSE_GRACE seconds of
// its own rotation (tabs refreshing at once) is not theft (API.md §4). Only
// a token whose one revocation is that rotation qualifies: every other
// revocation clears `rotated` (store.h), so a logout or a password change is
// never undone by it. The grace counts from the rotation, never from a reuse.
bool within_reuse_grace(const Call& call, const store::Token& presented) {
  const int64_t grace = call.svc.config.refresh_reuse_grace;
  return grace > 0 && presented.rotated && presented.revoked_at &&
         call.now() - *presented.revoked_at <= grace;
}

std::string pair_json(const char* first_key, const std::string& first, const char* second_key,
                      const std::string& second) {
  http::JsonWriter w;
  w.begin_object().field(first_key, first).field(second_key, second).end_object();
  return w.str();
}

}  // namespace

Result<http::Response> obtain_token(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.text("email");
  std::optional<std::string> password = form.text("password", http::Text{.trim = false});
  CPA_RETURN_IF_ERROR(form.status());

  store::Store& store = call.svc.store;
  const std::string key = email_key(*email);
  const int64_t now = call.now();

  Result<PasswordAttempt> reserved = reserve_password_attempt(call, key);
  if (reserved.status_or_ok().http_status() == 429) call.tally.login(metrics::Login::kThrottled);
  CPA_ASSIGN_OR_RETURN(PasswordAttempt attempt, std::move(reserved));
  CPA_ASSIGN_OR_RETURN(std::optional<store::User> user, store.user_by_email_key(key));
  const int iterations = call.svc.config.pbkdf2_iterations;
  auth::PasswordCheck check;
  if (user && user->password) {
    check = auth::check_password(*password, *user->password, iterations);
  } else {
    (void)auth::burn_password_check(*password, iterations);  // same time for unknown accounts
  }
  if (!check.ok || !user->is_active) {
    call.tally.login(metrics::Login::kFailure);
    return no_active_account();
  }

  std::optional<std::string> rehashed;
  if (check.needs_rehash) rehashed = auth::hash_password(*password, iterations, call.svc.rng);

  MintedTokens tokens = mint_tokens(call, user->id);
  Status st = store.write([&]() -> Status {
    // The check above ran outside this transaction, for a hash's time: the
    // password may have been changed (every token revoked) or the account
    // deactivated since. Tokens are issued only for the account as it is now.
    CPA_ASSIGN_OR_RETURN(auto now_user, store.user_by_id(user->id));
    if (!now_user || now_user->password != user->password || !now_user->is_active) {
      call.tally.login(metrics::Login::kFailure);
      return no_active_account();
    }
    CPA_RETURN_IF_ERROR(release_password_attempt(call, attempt));
    if (rehashed) CPA_RETURN_IF_ERROR(store.set_password(user->id, *rehashed, store::Activation::kUnchanged));
    CPA_RETURN_IF_ERROR(store.set_last_login(user->id, now));
    CPA_RETURN_IF_ERROR(record_tokens(call, tokens));
    call.tally.login(metrics::Login::kSuccess);
    return Status();
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Json(200, pair_json("refresh", tokens.refresh, "access", tokens.access));
}

Result<http::Response> verify_token(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> token = form.text("token");
  CPA_RETURN_IF_ERROR(form.status());

  std::optional<auth::Claims> claims = decode_token(call, *token);
  if (!claims) return Status::TokenInvalidOrExpired();
  CPA_ASSIGN_OR_RETURN(TokenRecord record,
                       read_token(call, claims->jti, claims->token_type, claims->user_id));
  if (record.state != TokenState::kLive) return Status::TokenInvalidOrExpired();
  return http::Response::Json(200, "{}");
}

Result<http::Response> refresh_token(Call& call) {
  CPA_ASSIGN_OR_RETURN(auth::Claims claims, read_refresh_field(call));
  store::Store& store = call.svc.store;
  // The new pair is signed before the transaction (the family is in the rows
  // only, not in the tokens). Inside, the record is read once: of concurrent
  // refreshes of one token exactly one finds it live; the others find it
  // rotated, which is reuse, unless the reuse grace covers them.
  MintedTokens fresh = mint_tokens(call, claims.user_id);
  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(TokenRecord record, read_refresh_record(call, claims));
    const store::Token& presented = record.token;
    if (record.state == TokenState::kLive) {
      CPA_ASSIGN_OR_RETURN(bool rotated, store.rotate_token(presented.jti, call.now()));
      if (!rotated) return Status::TokenBlacklisted();
      call.tally.tokens_revoked_by(metrics::Revocation::kRotation, 1);
    } else if (!within_reuse_grace(call, presented)) {
      // Theft, when it was rotated: every token of the session goes.
      if (presented.rotated) {
        CPA_ASSIGN_OR_RETURN(int64_t revoked,
                             store.revoke_family(presented.user_id, presented.family, call.now()));
        call.tally.refresh_reused();
        call.tally.tokens_revoked_by(metrics::Revocation::kReuse, revoked);
      }
      return Status::TokenBlacklisted();
    }
    fresh.join_family(presented.family);
    return record_tokens(call, fresh);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Json(200, pair_json("access", fresh.access, "refresh", fresh.refresh));
}

Result<http::Response> blacklist_token(Call& call) {
  CPA_ASSIGN_OR_RETURN(auth::Claims claims, read_refresh_field(call));
  store::Store& store = call.svc.store;
  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(TokenRecord record, read_refresh_record(call, claims));
    if (record.state == TokenState::kRevoked) return Status::TokenBlacklisted();
    const store::Token& presented = record.token;
    // Logout ends the whole session: the refresh token and every token
    // descended from the same login.
    CPA_ASSIGN_OR_RETURN(int64_t revoked,
                         store.revoke_family(presented.user_id, presented.family, call.now()));
    call.tally.tokens_revoked_by(metrics::Revocation::kLogout, revoked);
    return Status();
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Json(200, "{}");
}

}  // namespace cpa::api
