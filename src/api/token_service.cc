#include "api/token_service.h"

#include "auth/jwt.h"

namespace cpa::api {
namespace {

Result<std::string> issue(Call& call, int64_t user_id, const char* type, int64_t ttl,
                          const std::string& jti, const std::string& family) {
  auth::Claims claims;
  claims.token_type = type;
  claims.iat = call.now();
  claims.exp = claims.iat + ttl;
  claims.jti = jti;
  claims.user_id = user_id;
  store::Token row;
  row.jti = jti;
  row.user_id = user_id;
  row.token_type = type;
  row.family = family;
  row.issued_at = claims.iat;
  row.expires_at = claims.exp;
  CPA_RETURN_IF_ERROR(call.svc.store.insert_token(row));
  return auth::encode_jwt(claims, call.svc.keys.jwt);
}

}  // namespace

Result<TokenPair> issue_tokens(Call& call, int64_t user_id, const std::string& family) {
  const Config& config = call.svc.config;
  std::string refresh_jti = call.svc.rng.hex(16);
  std::string fam = family.empty() ? refresh_jti : family;
  TokenPair pair;
  CPA_ASSIGN_OR_RETURN(pair.refresh,
                       issue(call, user_id, "refresh", config.refresh_ttl, refresh_jti, fam));
  CPA_ASSIGN_OR_RETURN(pair.access, issue(call, user_id, "access", config.access_ttl,
                                          call.svc.rng.hex(16), fam));
  return pair;
}

}  // namespace cpa::api
