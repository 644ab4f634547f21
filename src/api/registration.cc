#include "api/registration.h"

#include "api/code_service.h"
#include "api/limits.h"
#include "api/password_policy.h"
#include "api/user_view.h"
#include "auth/password.h"
#include "core/email.h"
#include "http/fields.h"

namespace cpa::api {
namespace {

constexpr const char* kMustAcceptTerms = "You must accept the terms and conditions.";
constexpr const char* kCannotSetPassword = "Password cannot be set for this account.";

// An account that has not finished registering: it may be sent a fresh code.
bool unfinished(const store::User& u) { return !u.password || !u.email_verified; }

// Reads `purpose` limited to the two purposes verify-code/ and resend-code/ take.
std::optional<Purpose> read_public_purpose(http::Form& form) {
  std::optional<std::string> name =
      form.choice("purpose", {purpose_name(Purpose::kEmailVerification),
                              purpose_name(Purpose::kPasswordRecovery)});
  if (!name) return std::nullopt;
  return parse_purpose(*name);
}

}  // namespace

Result<http::Response> register_user(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  const http::Value* terms = form.raw("terms_accepted");
  if (!terms || http::parse_boolean(*terms) != true) form.fail("terms_accepted", kMustAcceptTerms);
  // Every failing field is reported at once (§1): when the terms already
  // fail, a taken email is reported beside them. Otherwise the check inside
  // the transaction below is the one that counts.
  if (email && form.failed("terms_accepted")) {
    CPA_ASSIGN_OR_RETURN(auto owner, call.svc.store.user_by_email_key(email_key(*email)));
    if (owner && !unfinished(*owner)) form.fail("email", kEmailTaken);
  }
  CPA_RETURN_IF_ERROR(form.status());

  const std::string key = email_key(*email);
  std::optional<store::User> user;
  Status st = call.svc.store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(user, call.svc.store.user_by_email_key(key));
    if (user && !unfinished(*user)) return Status::Field("email", kEmailTaken);
    if (!user) {
      store::NewUser fresh;
      fresh.email = display_email(*email);
      fresh.email_key = key;
      fresh.terms_accepted = true;
      fresh.date_joined = call.now();
      CPA_ASSIGN_OR_RETURN(int64_t id, call.svc.store.insert_user(fresh));
      CPA_ASSIGN_OR_RETURN(user, call.svc.store.user_by_id(id));
    } else if (!user->terms_accepted) {
      CPA_RETURN_IF_ERROR(call.svc.store.set_terms_accepted(user->id));
      user->terms_accepted = true;
    }
    return send_code(call, *user, Purpose::kEmailVerification, user->email, SendLimit::kEnforce);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Json(201, user_json(*user));
}

Result<http::Response> verify_code(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  std::optional<std::string> code = form.text("code");
  std::optional<Purpose> wanted = read_public_purpose(form);
  CPA_RETURN_IF_ERROR(form.status());

  const bool verification = *wanted == Purpose::kEmailVerification;
  Status st = call.svc.store.write([&]() -> Status {
    const std::string key = email_key(*email);
    CPA_ASSIGN_OR_RETURN(auto user, call.svc.store.user_by_email_key(key));
    // password_recovery: checked, not used up; recovery-reset-password/ uses it.
    const Consume consume = verification ? Consume::kYes : Consume::kNo;
    CPA_RETURN_IF_ERROR(
        check_code_for_email(call, user, key, *wanted, *code, consume).status_or_ok());
    if (!verification) return Status();
    return call.svc.store.mark_email_verified(user->id, call.now(), call.client_ip());
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, verification ? "Email verified." : "Code verified.");
}

Result<http::Response> public_set_password(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  const http::Value* raw_email = form.raw("email");
  std::optional<std::string> password =
      read_new_password(form, "password", email ? *email : raw_email ? raw_email->text : "");
  check_repeat(form, password, "repeat_password", kPasswordMismatch);
  std::optional<std::string> code;
  if (call.svc.config.set_password_requires_code || form.has("code")) code = form.text("code");
  CPA_RETURN_IF_ERROR(form.status());

  // The account may set its first password only within the window opened by
  // verifying its email, and only once.
  store::Store& store = call.svc.store;
  const std::string key = email_key(*email);
  auto eligible = [&](const std::optional<store::User>& u) {
    return u && !u->password && u->email_verified && u->verified_at &&
           call.now() - *u->verified_at <= limits::kFirstPasswordWindow;
  };
  CPA_ASSIGN_OR_RETURN(auto user, store.user_by_email_key(key));
  // Without the code, only the client address that verified the email may
  // set the password: knowing the email is not enough (§3).
  auto same_client = [&]() -> Status {
    CPA_ASSIGN_OR_RETURN(std::string verified_from, store.verified_ip(user->id));
    if (verified_from.empty() || verified_from != call.client_ip())
      return Status::Field("code", http::msg::kRequired);
    return Status();
  };
  if (!eligible(user)) return Status::NonField(kCannotSetPassword);
  if (!code) CPA_RETURN_IF_ERROR(same_client());
  // Hash outside the write transaction: it is the slow part.
  std::string hash = auth::hash_password(*password, call.svc.config.pbkdf2_iterations, call.svc.rng);

  Status st = store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(user, store.user_by_email_key(key));
    if (!eligible(user)) return Status::NonField(kCannotSetPassword);
    if (code) {
      CPA_RETURN_IF_ERROR(check_spent_code(call, user->id, Purpose::kEmailVerification, *code));
    } else {
      CPA_RETURN_IF_ERROR(same_client());
    }
    return store.set_password(user->id, hash, store::Activation::kActivate);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, "Password has been set.");
}

Result<http::Response> resend_code(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> email = form.email("email");
  std::optional<Purpose> wanted = read_public_purpose(form);
  CPA_RETURN_IF_ERROR(form.status());

  const bool verification = *wanted == Purpose::kEmailVerification;
  // As recovery-request/: the same work whether or not a code goes out, so
  // that neither the answer nor its timing tells whether the account exists.
  Status st = call.svc.store.write([&]() -> Status {
    const std::string key = email_key(*email);
    CPA_ASSIGN_OR_RETURN(auto user, call.svc.store.user_by_email_key(key));
    const bool eligible = user && (verification ? unfinished(*user) : user->is_active);
    if (!eligible) return probe_send_limit(call, key, *wanted);
    return send_code(call, *user, *wanted, user->email, SendLimit::kSilent);
  });
  CPA_RETURN_IF_ERROR(st);
  return http::Response::Detail(200, "If the account exists, a new code has been sent.");
}

}  // namespace cpa::api
