#include "api/token_service.h"

#include <cstdio>

#include "auth/jwt.h"
#include "core/clock.h"
#include "core/utf8.h"

namespace cpa::api {
namespace {

constexpr size_t kUserAgentMaxLength = 256;  // characters (code points)

// The User-Agent of the request as a session records it: its first 256
// characters, "" when absent. Read as UTF-8, or as Latin-1 (as WSGI reads
// header bytes) when it is not valid UTF-8, so that the JSON stays UTF-8.
std::string session_user_agent(const http::Request& request) {
  const std::string* header = request.header("user-agent");
  if (!header) return "";
  const std::string text = is_valid_utf8(*header) ? *header : latin1_to_utf8(*header);
  return std::string(utf8_prefix(text, kUserAgentMaxLength));
}

// 32 lowercase hex: the token's expiry in seconds (8), the microsecond of
// its making (5), then 76 random bits. Ids sort by expiry and, within a
// second, by creation, so tokens are appended to the end of their key and
// of their session's index range instead of splitting pages all over; and the
// expired tokens are a range of the key (store.h: pruning relies on it).
std::string new_jti(Call& call, int64_t ttl) {
  char prefix[14];
  snprintf(prefix, sizeof prefix, "%08x%05x",
           static_cast<unsigned>((call.now() + ttl) & 0xffffffff),
           static_cast<unsigned>(sub_second_micros()));
  return prefix + call.svc.rng.hex(10).substr(0, 19);
}

std::string mint(Call& call, int64_t user_id, const char* type, int64_t ttl,
                 const std::string& jti, const std::string& family, store::Token* row) {
  auth::Claims claims;
  claims.token_type = type;
  claims.iat = call.now();
  claims.exp = claims.iat + ttl;
  claims.jti = jti;
  claims.user_id = user_id;
  row->jti = jti;
  row->user_id = user_id;
  row->token_type = type;
  row->family = family;
  row->issued_at = claims.iat;
  row->expires_at = claims.exp;
  return auth::encode_jwt(claims, call.svc.keys.jwt);
}

}  // namespace

MintedTokens mint_tokens(Call& call, int64_t user_id) {
  const Config& config = call.svc.config;
  MintedTokens t;
  const std::string refresh_jti = new_jti(call, config.refresh_ttl);
  t.refresh =
      mint(call, user_id, "refresh", config.refresh_ttl, refresh_jti, refresh_jti, &t.refresh_row);
  t.access = mint(call, user_id, "access", config.access_ttl, new_jti(call, config.access_ttl),
                  refresh_jti, &t.access_row);
  return t;
}

Status record_tokens(Call& call, const MintedTokens& tokens) {
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.insert_token(tokens.refresh_row));
  CPA_RETURN_IF_ERROR(store.insert_token(tokens.access_row));
  call.tally.token_issued(metrics::TokenType::kRefresh);
  call.tally.token_issued(metrics::TokenType::kAccess);
  store::Session session;
  session.id = tokens.refresh_row.family;
  session.user_id = tokens.refresh_row.user_id;
  session.refresh_jti = tokens.refresh_row.jti;
  session.created_at = session.last_used_at = tokens.refresh_row.issued_at;
  session.ip = call.client_ip();
  session.user_agent = session_user_agent(call.request);
  return store.touch_session(session);
}


std::optional<auth::Claims> decode_token(const Call& call, std::string_view token,
                                         std::optional<std::string_view> type) {
  auth::Claims claims;
  if (!auth::decode_jwt(token, call.svc.keys.jwt, call.now(), &claims)) return std::nullopt;
  if (type && claims.token_type != *type) return std::nullopt;
  return claims;
}

Result<TokenRecord> read_token(Call& call, const std::string& jti, std::string_view type,
                               int64_t user_id) {
  CPA_ASSIGN_OR_RETURN(auto found, call.svc.store.token_with_user(jti));
  TokenRecord record;
  if (!found) return record;
  auto& [token, user] = *found;
  if (token.token_type != type || token.user_id != user_id || !user.is_active) return record;
  record.state = token.revoked_at ? TokenState::kRevoked : TokenState::kLive;
  record.token = std::move(token);
  record.user = std::move(user);
  return record;
}

}  // namespace cpa::api
