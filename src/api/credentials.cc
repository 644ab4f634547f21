#include "api/credentials.h"

#include "api/limits.h"
#include "auth/password.h"
#include "mail/outbox_seal.h"
#include "mail/templates.h"

namespace cpa::api {
namespace {
constexpr const char* kScope = "login";
}

Result<int64_t> reserve_password_attempt(Call& call, const std::string& email_key) {
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  int64_t attempt = 0;
  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(store::ThrottleWindow w,
                         store.throttle_window(kScope, email_key, now - limits::kLoginFailureWindow));
    if (w.count >= limits::kLoginMaxFailures)
      return Status::Throttled(w.oldest + limits::kLoginFailureWindow - now);
    CPA_ASSIGN_OR_RETURN(attempt, store.add_throttle_event(kScope, email_key, now));
    return Status();
  });
  CPA_RETURN_IF_ERROR(st);
  return attempt;
}

Status release_password_attempt(Call& call, int64_t attempt) {
  return call.svc.store.remove_throttle_event(attempt);
}

Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              const char* field) {
  CPA_ASSIGN_OR_RETURN(int64_t attempt, reserve_password_attempt(call, user.email_key));
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

Status replace_password(Call& call, const store::User& user, const std::string& hash) {
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  CPA_RETURN_IF_ERROR(store.set_password(user.id, hash, false));
  CPA_RETURN_IF_ERROR(store.revoke_user_tokens(user.id, now));
  CPA_ASSIGN_OR_RETURN(store::OutboxMail notice,
                       mail::sealed_mail(call.svc.keys.outbox, call.svc.rng, user.email,
                                         mail::password_changed_notice()));
  return store.enqueue_mail(notice, now);
}

}  // namespace cpa::api
