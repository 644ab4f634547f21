#include "api/auth_gate.h"

#include "api/token_service.h"

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

// An access token whose record is live. Sets call.user and the session the
// token belongs to.
Status accept_access_token(Call& call, const std::string& jti, int64_t user_id) {
  CPA_ASSIGN_OR_RETURN(TokenRecord record, read_token(call, jti, "access", user_id));
  if (record.state != TokenState::kLive) return Status::TokenNotValid();
  call.access_jti = jti;
  call.session_id = std::move(record.token.family);
  call.user = std::move(record.user);
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

  std::optional<auth::Claims> claims = decode_token(call, parts[1], "access");
  if (!claims) return Status::TokenNotValid();
  return accept_access_token(call, claims->jti, claims->user_id);
}

Status reauthenticate(Call& call) {
  return accept_access_token(call, call.access_jti, call.user ? call.user->id : -1);
}

bool operator_allowed(const http::Request& request, const Config& config) {
  return any_contains(config.metrics_allow, request.remote_addr);
}

}  // namespace cpa::api
