#include "core/status.h"

#include "core/utf8.h"

namespace cpa {

void FieldErrors::add(const std::string& field, std::string message) {
  for (auto& [name, messages] : fields) {
    if (name == field) {
      messages.push_back(std::move(message));
      return;
    }
  }
  fields.push_back({field, {std::move(message)}});
}

bool FieldErrors::has(const std::string& field) const {
  for (const auto& entry : fields)
    if (entry.first == field) return true;
  return false;
}

Status Status::Field(std::string field, std::string message) {
  FieldErrors errors;
  errors.add(field, std::move(message));
  return Validation(std::move(errors));
}

Status Status::NonField(std::string message) {
  return Field("non_field_errors", std::move(message));
}

Status Status::Validation(FieldErrors errors) {
  Status s;
  s.kind_ = Kind::kValidation;
  s.http_status_ = 400;
  s.errors_ = std::move(errors);
  return s;
}

Status Status::Detail(int http_status, std::string detail, std::string code) {
  Status s;
  s.kind_ = Kind::kDetail;
  s.http_status_ = http_status;
  s.detail_ = std::move(detail);
  s.code_ = std::move(code);
  return s;
}

Status Status::ParseError(const std::string& reason) {
  return Detail(400, "JSON parse error - " + reason);
}

Status Status::NotAuthenticated() {
  return Unauthorized("Authentication credentials were not provided.");
}

Status Status::TokenNotValid() {
  return Unauthorized("Given token not valid for any token type", "token_not_valid");
}

Status Status::Unauthorized(std::string detail, std::string code) {
  Status s = Detail(401, std::move(detail), std::move(code));
  s.authenticate_header_ = true;  // simplejwt's token views send it on every 401
  return s;
}

Status Status::TokenInvalidOrExpired() {
  return Unauthorized("Token is invalid or expired", "token_not_valid");
}

Status Status::TokenBlacklisted() { return Unauthorized("Token is blacklisted", "token_not_valid"); }

Status Status::PermissionDenied() {
  return Detail(403, "You do not have permission to perform this action.");
}

Status Status::NotFound() { return Detail(404, "Not found."); }

Status Status::MethodNotAllowed(const std::string& method, std::string allow) {
  Status s = Detail(405, "Method \"" + method + "\" not allowed.");
  s.allow_ = std::move(allow);
  return s;
}

Status Status::TooLarge() { return Detail(413, "Request body too large."); }

Status Status::UnsupportedMediaType(const std::string& content_type) {
  // Header bytes are Latin-1 to Django: the body stays UTF-8 whatever was sent.
  return Detail(415, "Unsupported media type \"" + latin1_to_utf8(content_type) + "\" in request.");
}

Status Status::Throttled(int64_t retry_after_seconds) {
  if (retry_after_seconds < 1) retry_after_seconds = 1;
  std::string detail = "Request was throttled. Expected available in " +
                       std::to_string(retry_after_seconds) +
                       (retry_after_seconds == 1 ? " second." : " seconds.");
  Status s = Detail(429, std::move(detail));
  s.retry_after_ = retry_after_seconds;
  return s;
}

Status Status::Unavailable(std::string reason) {
  Status s = Detail(503, "Service temporarily unavailable.");
  s.kind_ = Kind::kUnavailable;
  s.reason_ = std::move(reason);
  s.retry_after_ = 5;
  return s;
}

Status Status::Internal(std::string reason) {
  Status s = Detail(500, "Internal server error.");
  s.kind_ = Kind::kInternal;
  s.reason_ = std::move(reason);
  return s;
}

}  // namespace cpa
