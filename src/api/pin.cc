#include "api/pin.h"

#include "api/auth_gate.h"
#include "api/code_service.h"
#include "api/limits.h"
#include "auth/password.h"
#include "http/fields.h"

namespace cpa::api {
namespace {

constexpr const char* kPinFormat = "PIN must be 4 to 6 digits.";
constexpr const char* kPinMismatch = "The two PIN fields didn't match.";
constexpr const char* kInvalidPin = "Invalid PIN.";
constexpr const char* kNoPin = "No PIN is set for this account.";
constexpr http::Text kPinText{.trim = false};  // PINs are never trimmed

bool is_pin(const std::string& s) {
  if (s.size() < 4 || s.size() > 6) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Reads a new PIN and its confirmation: format, presence, match.
std::optional<std::string> read_new_pin(http::Form& form) {
  std::optional<std::string> pin = form.text("pin", kPinText);
  std::optional<std::string> repeat = form.text("repeat_pin", kPinText);
  // The cross-field check is reported with the field errors (§1), also when
  // the PIN's format is wrong.
  if (pin && repeat && *pin != *repeat) form.fail_non_field(kPinMismatch);
  if (pin && !is_pin(*pin)) {
    form.fail("pin", kPinFormat);
    pin.reset();
  }
  return pin;
}

// One guess at the account's PIN, limited to 5 wrong in a row, then a lock of
// 15 minutes. The guess is counted as wrong before the (slow) check, in the
// transaction that reads the count, and forgiven when it was right: the
// counter is exact under concurrency. Returns OK, 429, or 400 {field: Invalid PIN}.
Status guess_pin(Call& call, const std::string& guess, const char* field) {
  store::Store& store = call.svc.store;
  const int64_t user_id = call.user->id;
  std::optional<std::string> pin_hash;
  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(auto user, store.user_by_id(user_id));
    if (!user) return Status::TokenNotValid();
    if (!user->pin_hash) return Status::Field(field, kNoPin);
    const int64_t now = call.now();
    if (user->pin_locked_until > now) return Status::Throttled(user->pin_locked_until - now);
    int failures = user->pin_locked_until ? 0 : user->pin_failures;  // a lock that ran out
    ++failures;
    int64_t locked_until = failures >= limits::kPinMaxStrikes ? now + limits::kPinLockSeconds : 0;
    pin_hash = user->pin_hash;
    return store.set_pin_strikes(user_id, failures, locked_until);
  });
  CPA_RETURN_IF_ERROR(st);
  bool right = is_pin(guess) &&
               auth::check_password(guess, *pin_hash, call.svc.config.pin_iterations).ok;
  if (!right) return Status::Field(field, kInvalidPin);
  return store.write([&] { return store.set_pin_strikes(user_id, 0, 0); });
}

std::string hash_pin(Call& call, const std::string& pin) {
  return auth::hash_password(pin, call.svc.config.pin_iterations, call.svc.rng);
}

}  // namespace

Result<http::Response> set_pin(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> pin = read_new_pin(form);
  const store::User& user = *call.user;
  const bool window_open = user.pin_reset_until > call.now();
  const bool needs_current = user.pin_hash && !window_open;
  std::optional<std::string> current;
  if (needs_current) current = form.text("current_pin", kPinText);
  CPA_RETURN_IF_ERROR(form.status());

  if (needs_current) CPA_RETURN_IF_ERROR(guess_pin(call, *current, "current_pin"));
  std::string hash = hash_pin(call, *pin);
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    // The account as it is now (reauthenticate() reads it again): skipping
    // current_pin was decided on the row as authentication read it, and a
    // concurrent set-pin/ may have used the window (or set a first PIN) since.
    CPA_RETURN_IF_ERROR(reauthenticate(call));
    const store::User& now_user = *call.user;
    if (!needs_current && now_user.pin_hash && now_user.pin_reset_until <= call.now())
      return Status::Field("current_pin", http::msg::kRequired);
    return store.set_pin(now_user.id, hash);
  }));
  return http::Response::Detail(200, "PIN has been set.");
}

Result<http::Response> verify_pin(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> pin = form.text("pin", kPinText);
  CPA_RETURN_IF_ERROR(form.status());
  CPA_RETURN_IF_ERROR(guess_pin(call, *pin, "pin"));
  return http::Response::Detail(200, "PIN is valid.");
}

Result<http::Response> reset_pin_request(Call& call) {
  const store::User& user = *call.user;
  CPA_RETURN_IF_ERROR(call.svc.store.write([&] {
    return send_code(call, user, Purpose::kPinReset, user.email, SendLimit::kEnforce);
  }));
  return http::Response::Detail(200, "A PIN reset code has been sent to your email.");
}

Result<http::Response> reset_pin_verify(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> code = form.text("code");
  // {code} opens the reset window; {code, pin, repeat_pin} sets the PIN at once.
  const bool one_shot = form.has("pin") || form.has("repeat_pin");
  std::optional<std::string> pin;
  if (one_shot) pin = read_new_pin(form);
  CPA_RETURN_IF_ERROR(form.status());

  std::optional<std::string> hash;
  if (one_shot) hash = hash_pin(call, *pin);
  store::Store& store = call.svc.store;
  const int64_t user_id = call.user->id;
  Status st = store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(reauthenticate(call));
    CPA_RETURN_IF_ERROR(check_code(call, user_id, Purpose::kPinReset, *code, Consume::kYes).status_or_ok());
    if (hash) return store.set_pin(user_id, *hash);  // also clears strikes and lock
    return store.set_pin_reset_window(user_id, call.now() + limits::kPinResetWindow);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, hash ? "PIN has been reset."
                                          : "Code verified. You may now set a new PIN.");
}

}  // namespace cpa::api
