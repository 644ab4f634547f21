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
  CPA_ASSIGN_OR_RETURN(auto found, call.svc.store.token_with_user(claims.jti));
  if (!found) return Status::TokenNotValid();
  auto& [token, user] = *found;
  if (token.revoked_at || token.token_type != "access" || token.user_id != claims.user_id ||
      !user.is_active) {
    return Status::TokenNotValid();
  }
  call.user = std::move(user);
  return Status();
}

}  // namespace cpa::api
