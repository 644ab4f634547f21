#include "api/auth_gate.h"

#include "auth/jwt.h"

namespace cpa::api {
namespace {

// Splits "Bearer <token>" as simplejwt does (on whitespace).
std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) parts.push_back(s.substr(start, i - start));
  }
  return parts;
}

// The one liveness check of an access token: its record exists, is an access
// token of `user_id`, is not revoked, and its user is active. Sets call.user
// and the session the token belongs to.
Status accept_access_token(Call& call, const std::string& jti, int64_t user_id) {
  CPA_ASSIGN_OR_RETURN(auto found, call.svc.store.token_with_user(jti));
  if (!found) return Status::TokenNotValid();
  auto& [token, user] = *found;
  if (token.revoked_at || token.token_type != "access" || token.user_id != user_id ||
      !user.is_active) {
    return Status::TokenNotValid();
  }
  call.access_jti = jti;
  call.session_id = std::move(token.family);
  call.user = std::move(user);
  return Status();
}

}  // namespace

Status authenticate(Call& call) {
  const std::string* header = call.request.header("authorization");
  if (!header) return Status::NotAuthenticated();
  std::vector<std::string_view> parts = split_spaces(*header);
  if (parts.empty() || (parts[0] != "Bearer" && parts[0] != "JWT"))
    return Status::NotAuthenticated();
  if (parts.size() != 2) return Status::TokenNotValid();

  auth::Claims claims;
  if (!auth::decode_jwt(parts[1], call.svc.keys.jwt, call.now(), &claims) ||
      claims.token_type != "access") {
    return Status::TokenNotValid();
  }
  return accept_access_token(call, claims.jti, claims.user_id);
}

Status reauthenticate(Call& call) {
  return accept_access_token(call, call.access_jti, call.user ? call.user->id : -1);
}

bool operator_allowed(const http::Request& request, const Config& config) {
  return any_contains(config.metrics_allow, request.remote_addr);
}

}  // namespace cpa::api
