#include "api/credentials.h"

#include "api/limits.h"
#include "api/mail_service.h"
#include "auth/password.h"
#include "mail/templates.h"

namespace cpa::api {
namespace {

constexpr const char* kLoginScope = "login";               // subject: the email key
constexpr const char* kLoginAddressScope = "login-addr";   // subject: address + email key
constexpr const char* kHashScope = "hash";                 // subject: the user id

// The window's 429 when it already holds `max` events, else OK.
Status check_window(Call& call, const char* scope, const std::string& subject, int64_t window,
                    int64_t max) {
  const int64_t now = call.now();
  CPA_ASSIGN_OR_RETURN(store::ThrottleWindow w,
                       call.svc.store.throttle_window(scope, subject, now - window));
  if (w.count >= max) return Status::Throttled(w.oldest + window - now);
  return Status();
}

}  // namespace

Result<PasswordAttempt> reserve_password_attempt(Call& call, const std::string& email_key) {
  PasswordAttempt attempt;
  const std::string from = call.client_ip() + " " + email_key;
  store::Store& store = call.svc.store;
  Status st = store.write([&]() -> Status {
    // Both limits are read before either is counted: a 429 counts nothing.
    CPA_RETURN_IF_ERROR(check_window(call, kLoginAddressScope, from, limits::kLoginFailureWindow,
                                     limits::kLoginMaxFailuresPerAddress));
    CPA_RETURN_IF_ERROR(check_window(call, kLoginScope, email_key, limits::kLoginFailureWindow,
                                     limits::kLoginMaxFailures));
    CPA_ASSIGN_OR_RETURN(attempt.from_address,
                         store.add_throttle_event(kLoginAddressScope, from, call.now()));
    CPA_ASSIGN_OR_RETURN(attempt.overall, store.add_throttle_event(kLoginScope, email_key, call.now()));
    return Status();
  });
  CPA_RETURN_IF_ERROR(st);
  return attempt;
}

Status release_password_attempt(Call& call, const PasswordAttempt& attempt) {
  CPA_RETURN_IF_ERROR(call.svc.store.remove_throttle_event(attempt.from_address));
  return call.svc.store.remove_throttle_event(attempt.overall);
}

Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              const char* field) {
  CPA_ASSIGN_OR_RETURN(PasswordAttempt attempt, reserve_password_attempt(call, user.email_key));
  auth::PasswordCheck check = auth::check_password(password, user.password.value_or(""),
                                                   call.svc.config.pbkdf2_iterations);
  if (!check.ok) return Status::Field(field, kInvalidPassword);
  return call.svc.store.write([&] { return release_password_attempt(call, attempt); });
}

Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              http::Form& form, const char* field) {
  Status st = check_current_password(call, user, password, field);
  if (st.http_status() == 429 || st.is_storage_failure()) return st;
  if (!st.ok()) form.fail(field, kInvalidPassword);
  return Status();
}

Status spend_account_hash(Call& call) {
  const std::string account = std::to_string(call.user->id);
  return call.svc.store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(check_window(call, kHashScope, account, limits::kHashWindow,
                                     limits::kHashMaxPerAccount));
    return call.svc.store.add_throttle_event(kHashScope, account, call.now()).status_or_ok();
  });
}

Status replace_password(Call& call, const store::User& user, const std::string& hash) {
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  CPA_RETURN_IF_ERROR(store.set_password(user.id, hash, store::Activation::kUnchanged));
  CPA_ASSIGN_OR_RETURN(int64_t revoked, store.revoke_user_tokens(user.id, now));
  call.tally.tokens_revoked_by(metrics::Revocation::kPasswordChange, revoked);
  return queue_mail(call, user.email, mail::password_changed_notice());
}

}  // namespace cpa::api
