#include "api/email_change.h"

#include "api/auth_gate.h"
#include "api/code_service.h"
#include "api/mail_service.h"
#include "api/credentials.h"
#include "api/user_view.h"
#include "core/email.h"
#include "http/fields.h"
#include "mail/templates.h"

namespace cpa::api {
namespace {

// True when `key` belongs to an account other than `self`.
Result<bool> taken_by_other(store::Store& store, const std::string& key, int64_t self) {
  CPA_ASSIGN_OR_RETURN(auto owner, store.user_by_email_key(key));
  return owner && owner->id != self;
}

}  // namespace

Result<http::Response> reset_email_request(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> new_email = form.email("new_email");
  std::optional<std::string> password = form.text("password", http::Text{.trim = false});
  CPA_RETURN_IF_ERROR(form.status());

  const store::User& user = *call.user;
  store::Store& store = call.svc.store;
  const std::string display = display_email(*new_email);
  const std::string key = email_key(*new_email);
  // Both checks are reported together, in field order. The account's own
  // address counts as taken: it is no change.
  CPA_ASSIGN_OR_RETURN(auto owner, store.user_by_email_key(key));
  if (owner) form.fail("new_email", kEmailTaken);
  // Over a send limit, the 429 comes before the password's hash is spent.
  if (!owner) {
    CPA_ASSIGN_OR_RETURN(int64_t wait, code_send_wait(call, user, Purpose::kEmailChange, display));
    if (wait > 0) return Status::Throttled(wait);
  }
  CPA_RETURN_IF_ERROR(check_current_password(call, user, *password, form, "password"));
  CPA_RETURN_IF_ERROR(form.status());

  Status st = store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(reauthenticate(call));  // the password checked is still the caller's
    CPA_ASSIGN_OR_RETURN(bool taken, taken_by_other(store, key, user.id));
    if (taken) return Status::Field("new_email", kEmailTaken);
    return send_code(call, user, Purpose::kEmailChange, display, SendLimit::kEnforce, display);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, "A confirmation code has been sent to the new email address.");
}

Result<http::Response> reset_email_verify(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> code = form.text("code");
  CPA_RETURN_IF_ERROR(form.status());

  store::Store& store = call.svc.store;
  const int64_t user_id = call.user->id;
  std::optional<store::User> updated;
  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(store::Code row,
                         check_code(call, user_id, Purpose::kEmailChange, *code, Consume::kNo));
    if (!row.new_email) return Status::Field("code", kInvalidCode);
    const std::string key = email_key(*row.new_email);
    // Still free at this moment? Someone may have registered it meanwhile.
    CPA_ASSIGN_OR_RETURN(bool taken, taken_by_other(store, key, user_id));
    if (taken) return Status::Field("new_email", kEmailTaken);
    CPA_ASSIGN_OR_RETURN(auto before, store.user_by_id(user_id));
    if (!before) return Status::TokenNotValid();  // deleted since authentication
    CPA_RETURN_IF_ERROR(store.set_email(user_id, *row.new_email, key));
    // Codes sent to the old address (a recovery code, above all) must not act
    // on the account now that the address is someone else's to read.
    CPA_RETURN_IF_ERROR(store.delete_user_codes(user_id));
    // The old address is released: it may register again at once.
    CPA_RETURN_IF_ERROR(store.clear_send_history(before->email_key));
    CPA_RETURN_IF_ERROR(queue_mail(call, before->email, mail::email_changed_notice(*row.new_email)));
    CPA_ASSIGN_OR_RETURN(updated, store.user_by_id(user_id));
    return Status();
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Json(200, user_json(*updated));
}

}  // namespace cpa::api
