#include "api/recovery.h"

#include "api/code_service.h"
#include "api/credentials.h"
#include "api/password_policy.h"
#include "auth/password.h"
#include "core/email.h"
#include "http/fields.h"

namespace cpa::api {

Result<http::Response> recovery_request(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  CPA_RETURN_IF_ERROR(form.status());

  // The same answer, and the same work, whether or not the account exists:
  // a write transaction that looks the email up and goes through the send
  // limit; only an active account gets a code.
  Status st = call.svc.store.write([&]() -> Status {
    const std::string key = email_key(*email);
    CPA_ASSIGN_OR_RETURN(auto user, call.svc.store.user_by_email_key(key));
    if (!user || !user->is_active) return probe_send_limit(call, key, Purpose::kPasswordRecovery);
    return send_code(call, *user, Purpose::kPasswordRecovery, user->email, SendLimit::kSilent);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(
      200, "If an account with this email exists, a recovery code has been sent.");
}

Result<http::Response> recovery_reset_password(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  std::optional<std::string> code = form.text("code");
  const http::Value* raw_email = form.raw("email");
  std::optional<std::string> password =
      read_new_password(form, "password", email ? *email : raw_email ? raw_email->text : "");
  check_repeat(form, password, "password2", kPasswordMismatch);
  CPA_RETURN_IF_ERROR(form.status());

  // Hashed before the transaction (the slow part), for known and unknown
  // emails alike.
  std::string hash = auth::hash_password(*password, call.svc.config.pbkdf2_iterations, call.svc.rng);
  store::Store& store = call.svc.store;
  Status st = store.write([&]() -> Status {
    const std::string key = email_key(*email);
    CPA_ASSIGN_OR_RETURN(auto user, store.user_by_email_key(key));
    if (user && !user->is_active) user.reset();  // only an active account has a recovery code
    CPA_RETURN_IF_ERROR(check_code_for_email(call, user, key, Purpose::kPasswordRecovery, *code,
                                             Consume::kYes)
                            .status_or_ok());
    CPA_RETURN_IF_ERROR(store.mark_email_verified(user->id, call.now(), call.client_ip()));
    return replace_password(call, *user, hash);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, "Password has been reset.");
}

}  // namespace cpa::api
