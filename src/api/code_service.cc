#include "api/code_service.h"

#include <algorithm>

#include "api/limits.h"
#include "api/mail_service.h"
#include "auth/codes.h"
#include "core/email.h"
#include "mail/templates.h"

namespace cpa::api {

namespace {

std::string send_scope(Purpose purpose) { return "send:" + purpose_name(purpose); }
// Per account, whatever the destination (cleared with neither address).
std::string account_send_scope(Purpose purpose) {
  return "account-send:" + purpose_name(purpose);
}

// Seconds until (limit_key, purpose) may be sent another code; 0 = now.
Result<int64_t> send_wait(Call& call, const std::string& scope, const std::string& limit_key) {
  const int64_t now = call.now();
  CPA_ASSIGN_OR_RETURN(store::ThrottleWindow window,
                       call.svc.store.throttle_window(scope, limit_key, now - limits::kSendWindow));
  int64_t wait = 0;
  if (window.count > 0 && now - window.newest < limits::kSendInterval)
    wait = limits::kSendInterval - (now - window.newest);
  if (window.count >= limits::kSendMaxPerWindow)
    wait = std::max(wait, window.oldest + limits::kSendWindow - now);
  return wait;
}

// Seconds until `account` may be sent another code of this purpose to any
// address; 0 = now.
Result<int64_t> account_send_wait(Call& call, const std::string& scope,
                                  const std::string& account) {
  const int64_t now = call.now();
  CPA_ASSIGN_OR_RETURN(store::ThrottleWindow window,
                       call.svc.store.throttle_window(scope, account, now - limits::kSendWindow));
  if (window.count < limits::kAccountSendMaxPerWindow) return int64_t{0};
  return window.oldest + limits::kSendWindow - now;
}

Status invalid_code() { return Status::Field("code", kInvalidCode); }

// The answer to a guess, counted for metrics/ by its result.
Status checked(Call& call, std::string_view code_purpose, metrics::CodeCheck result) {
  call.tally.code_checked(code_purpose, result);
  switch (result) {
    case metrics::CodeCheck::kOk: return Status();
    case metrics::CodeCheck::kTooMany: return Status::Field("code", kTooManyAttempts);
    case metrics::CodeCheck::kWrong:
    case metrics::CodeCheck::kInvalid: break;
  }
  return invalid_code();
}

// A guess at a decoy: the steps of check_code() on a code that never
// matches. Counted as the same guess at a real code would be (the operator
// sees guesses, not whether the account exists).
Status guess_decoy(Call& call, const std::string& email_key, const store::Code& decoy,
                   Purpose purpose, const std::string& code) {
  const std::string& code_purpose = purpose_name(purpose);
  if (decoy.expires_at <= call.now())
    return checked(call, code_purpose, metrics::CodeCheck::kInvalid);
  if (decoy.attempts >= limits::kCodeMaxWrongGuesses)
    return checked(call, code_purpose, metrics::CodeCheck::kTooMany);
  // The same HMAC as for a real code, whose answer is always no.
  (void)auth::code_matches(decoy.code_hash, call.svc.keys.code, 0, code_purpose, code);
  CPA_RETURN_IF_ERROR(
      call.svc.store.set_code_decoy_attempts(email_key, code_purpose, decoy.attempts + 1));
  return checked(call, code_purpose, metrics::CodeCheck::kWrong);
}

}  // namespace

Result<int64_t> code_send_wait(Call& call, const store::User& user, Purpose purpose,
                               const std::optional<std::string>& new_email) {
  const std::string limit_key = new_email ? email_key(*new_email) : user.email_key;
  CPA_ASSIGN_OR_RETURN(int64_t wait, send_wait(call, send_scope(purpose), limit_key));
  if (new_email) {
    CPA_ASSIGN_OR_RETURN(int64_t account_wait, account_send_wait(call, account_send_scope(purpose),
                                                                 std::to_string(user.id)));
    wait = std::max(wait, account_wait);
  }
  return wait;
}

Status send_code(Call& call, const store::User& user, Purpose purpose,
                 const std::string& recipient, SendLimit limit,
                 std::optional<std::string> new_email) {
  const std::string& code_purpose = purpose_name(purpose);
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  const std::string limit_key = new_email ? email_key(*new_email) : user.email_key;

  CPA_ASSIGN_OR_RETURN(int64_t wait, code_send_wait(call, user, purpose, new_email));
  if (wait > 0) return limit == SendLimit::kSilent ? Status() : Status::Throttled(wait);

  const std::string code = auth::generate_code(call.svc.rng);
  store::Code row;
  row.user_id = user.id;
  row.purpose = code_purpose;
  row.code_hash = auth::hash_code(call.svc.keys.code, user.id, code_purpose, code);
  row.created_at = now;
  row.expires_at = now + call.svc.config.code_ttl;
  const bool to_new_address = new_email.has_value();
  row.new_email = std::move(new_email);
  CPA_RETURN_IF_ERROR(store.put_code(row));
  CPA_RETURN_IF_ERROR(store.add_throttle_event(send_scope(purpose), limit_key, now).status_or_ok());
  if (to_new_address) {
    CPA_RETURN_IF_ERROR(store.add_throttle_event(account_send_scope(purpose),
                                                 std::to_string(user.id), now)
                            .status_or_ok());
  }
  // The mail names its code: if a newer one replaces it (or it dies) before
  // the mailer gets to it, this one is not sent.
  CPA_RETURN_IF_ERROR(queue_mail(call, recipient,
                                 mail::code_mail(purpose, code, call.svc.config.code_ttl),
                                 store::CodeRef{user.id, code_purpose, row.code_hash}));
  call.tally.code_sent(code_purpose);
  return Status();
}

Status probe_send_limit(Call& call, const std::string& limit_email_key, Purpose purpose) {
  const std::string& code_purpose = purpose_name(purpose);
  const std::string scope = send_scope(purpose);
  CPA_ASSIGN_OR_RETURN(int64_t wait, send_wait(call, scope, limit_email_key));
  if (wait > 0) return Status();
  // A code is made and hashed as for a real account; only its hash is kept,
  // as a decoy.
  const int64_t now = call.now();
  const std::string code = auth::generate_code(call.svc.rng);
  store::Code decoy;
  decoy.purpose = code_purpose;
  decoy.code_hash = auth::hash_code(call.svc.keys.code, 0, code_purpose, code);
  decoy.created_at = now;
  decoy.expires_at = now + call.svc.config.code_ttl;
  CPA_RETURN_IF_ERROR(call.svc.store.put_code_decoy(limit_email_key, decoy));
  CPA_RETURN_IF_ERROR(call.svc.store.add_throttle_event(scope, limit_email_key, now).status_or_ok());
  // Its mail is sealed and queued like a real one (the same work, the mailer
  // woken): it names a code no account holds (user 0), so the mailer finds it
  // dead and marks it expired. It is never sent.
  return queue_mail(call, limit_email_key,
                    mail::code_mail(purpose, code, call.svc.config.code_ttl),
                    store::CodeRef{0, code_purpose, decoy.code_hash});
}

Result<store::Code> check_code(Call& call, int64_t user_id, Purpose purpose,
                               const std::string& code, Consume consume) {
  const std::string& code_purpose = purpose_name(purpose);
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  CPA_ASSIGN_OR_RETURN(std::optional<store::Code> row, store.code_for(user_id, code_purpose));
  if (!row || row->used_at || row->expires_at <= now)
    return checked(call, code_purpose, metrics::CodeCheck::kInvalid);
  if (row->attempts >= limits::kCodeMaxWrongGuesses)
    return checked(call, code_purpose, metrics::CodeCheck::kTooMany);
  if (!auth::code_matches(row->code_hash, call.svc.keys.code, user_id, code_purpose, code)) {
    CPA_RETURN_IF_ERROR(store.set_code_attempts(user_id, code_purpose, row->attempts + 1));
    return checked(call, code_purpose, metrics::CodeCheck::kWrong);
  }
  if (consume == Consume::kYes)
    CPA_RETURN_IF_ERROR(store.mark_code_used(user_id, code_purpose, now));
  CPA_RETURN_IF_ERROR(checked(call, code_purpose, metrics::CodeCheck::kOk));
  return std::move(*row);
}

Result<store::Code> check_code_for_email(Call& call, const std::optional<store::User>& user,
                                         const std::string& email_key, Purpose purpose,
                                         const std::string& code, Consume consume) {
  const std::string& code_purpose = purpose_name(purpose);
  store::Store& store = call.svc.store;
  CPA_ASSIGN_OR_RETURN(std::optional<store::Code> decoy,
                       store.code_decoy_for(email_key, code_purpose));
  std::optional<store::Code> real;
  if (user) {
    CPA_ASSIGN_OR_RETURN(real, store.code_for(user->id, code_purpose));
  }
  if (decoy && (!real || decoy->created_at > real->created_at))
    return guess_decoy(call, email_key, *decoy, purpose, code);
  if (!user) return checked(call, code_purpose, metrics::CodeCheck::kInvalid);
  return check_code(call, user->id, purpose, code, consume);
}

Status check_spent_code(Call& call, int64_t user_id, Purpose purpose,
                        const std::string& code) {
  const std::string& code_purpose = purpose_name(purpose);
  store::Store& store = call.svc.store;
  CPA_ASSIGN_OR_RETURN(std::optional<store::Code> row, store.code_for(user_id, code_purpose));
  // Answered as invalid whatever the reason (API.md §3), counted by it.
  if (!row || !row->used_at) return checked(call, code_purpose, metrics::CodeCheck::kInvalid);
  if (row->attempts >= limits::kCodeMaxWrongGuesses) {
    call.tally.code_checked(code_purpose, metrics::CodeCheck::kTooMany);
    return invalid_code();
  }
  if (!auth::code_matches(row->code_hash, call.svc.keys.code, user_id, code_purpose, code)) {
    CPA_RETURN_IF_ERROR(store.set_code_attempts(user_id, code_purpose, row->attempts + 1));
    return checked(call, code_purpose, metrics::CodeCheck::kWrong);
  }
  return checked(call, code_purpose, metrics::CodeCheck::kOk);
}

}  // namespace cpa::api
