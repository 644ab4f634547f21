// Status: errors as values (after LevelDB's Status).
//
// A Status is either OK or one of the error bodies of API.md §1: a DRF
// validation error (field -> messages), a {"detail"} error with its HTTP
// status, or a storage failure (503 when the database is busy or gone, 500
// otherwise). Handlers and the storage layer return a Status; only
// http/render.cc turns one into bytes on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace cpa {

// Field name -> messages, in the order the fields were validated.
struct FieldErrors {
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;

  void add(const std::string& field, std::string message);
  bool empty() const { return fields.empty(); }
  bool has(const std::string& field) const;
};

class Status {
 public:
  enum class Kind : uint8_t {
    kOk,
    kValidation,   // 400 with field errors
    kDetail,       // any status with {"detail": ...}
    kUnavailable,  // 503: database locked past its timeout, or unreachable
    kInternal,     // 500: a bug or an unexpected storage error
  };

  Status() = default;

  // 400 {"field": ["message"]}
  static Status Field(std::string field, std::string message);
  static Status NonField(std::string message);
  static Status Validation(FieldErrors errors);

  // {"detail": ...} errors of API.md §1.
  static Status Detail(int http_status, std::string detail, std::string code = "");
  static Status ParseError(const std::string& reason);        // 400
  // 401 with WWW-Authenticate: Bearer realm="api".
  static Status Unauthorized(std::string detail, std::string code = "");
  static Status NotAuthenticated();                            // 401 + WWW-Authenticate
  static Status TokenNotValid();                               // 401 on 🔒 routes
  static Status TokenInvalidOrExpired();                       // 401 token endpoints
  static Status TokenBlacklisted();                            // 401 token endpoints
  static Status PermissionDenied();                            // 403
  static Status NotFound();                                    // 404
  static Status MethodNotAllowed(const std::string& method, std::string allow);  // 405
  static Status TooLarge();                                    // 413
  static Status UnsupportedMediaType(const std::string& content_type);  // 415
  static Status Throttled(int64_t retry_after_seconds);        // 429

  // Storage failures. `reason` is for the log, never for the client (health/
  // alone shows an Unavailable reason: SQLite's short message, no SQL).
  static Status Unavailable(std::string reason);
  static Status Internal(std::string reason);

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  int http_status() const { return http_status_; }
  bool is_storage_failure() const {
    return kind_ == Kind::kUnavailable || kind_ == Kind::kInternal;
  }

  const FieldErrors& field_errors() const { return errors_; }
  const std::string& detail() const { return detail_; }
  const std::string& code() const { return code_; }
  const std::string& reason() const { return reason_; }
  int64_t retry_after() const { return retry_after_; }
  const std::string& allow() const { return allow_; }
  bool wants_authenticate_header() const { return authenticate_header_; }

 private:
  Kind kind_ = Kind::kOk;
  int http_status_ = 200;
  FieldErrors errors_;
  std::string detail_;
  std::string code_;          // "token_not_valid" etc.
  std::string reason_;        // internal only: logged, never rendered
  int64_t retry_after_ = 0;   // seconds; 0 = no Retry-After header
  std::string allow_;         // Allow header of a 405
  bool authenticate_header_ = false;
};

// Result<T>: a value or a non-OK Status. Another error type may stand in for
// Status (the admin commands' cli::Outcome); an error that converts to it
// (a store's Status) is taken as one, so CPA_ASSIGN_OR_RETURN passes it up.
template <typename T, typename Error = Status>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit on purpose
  template <typename Other>
    requires(!std::is_same_v<std::decay_t<Other>, Error> && std::is_convertible_v<Other, Error> &&
             !std::is_convertible_v<Other, T>)
  Result(Other&& error) : v_(Error(std::forward<Other>(error))) {}  // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Error& status() const { return std::get<Error>(v_); }
  // OK when holding a value, else the error: for callers that need only the outcome.
  Error status_or_ok() const { return ok() ? Error() : status(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

#define CPA_CONCAT_INNER(a, b) a##b
#define CPA_CONCAT(a, b) CPA_CONCAT_INNER(a, b)

// CPA_RETURN_IF_ERROR(expr): returns the Status (or other error, such as a
// cli::Outcome) that `expr` gives, unless it is OK.
#define CPA_RETURN_IF_ERROR(expr) CPA_RETURN_IF_ERROR_IMPL(CPA_CONCAT(_st_, __COUNTER__), expr)
#define CPA_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                      \
    auto tmp = (expr);                      \
    if (!tmp.ok()) return tmp;              \
  } while (0)

// CPA_ASSIGN_OR_RETURN(auto x, expr): unwraps a Result or returns its Status.
#define CPA_ASSIGN_OR_RETURN(lhs, expr) \
  CPA_ASSIGN_OR_RETURN_IMPL(CPA_CONCAT(_res_, __COUNTER__), lhs, expr)
#define CPA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp.value())

}  // namespace cpa
