#include "api/code_service.h"

#include "api/limits.h"
#include "auth/codes.h"
#include "core/email.h"
#include "mail/outbox_seal.h"
#include "mail/templates.h"

namespace cpa::api {

namespace {

std::string send_scope(const char* code_purpose) { return std::string("send:") + code_purpose; }

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

}  // namespace

Status send_code(Call& call, const store::User& user, const char* code_purpose,
                 const std::string& recipient, SendLimit limit,
                 std::optional<std::string> new_email) {
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  const std::string limit_key = new_email ? email_key(*new_email) : user.email_key;
  const std::string scope = send_scope(code_purpose);

  CPA_ASSIGN_OR_RETURN(int64_t wait, send_wait(call, scope, limit_key));
  if (wait > 0) return limit == SendLimit::kSilent ? Status() : Status::Throttled(wait);

  const std::string code = auth::generate_code(call.svc.rng);
  store::Code row;
  row.user_id = user.id;
  row.purpose = code_purpose;
  row.code_hash = auth::hash_code(call.svc.keys.code, user.id, code_purpose, code);
  row.new_email = std::move(new_email);
  row.created_at = now;
  row.expires_at = now + call.svc.config.code_ttl;
  CPA_RETURN_IF_ERROR(store.put_code(row));
  CPA_RETURN_IF_ERROR(store.add_throttle_event(scope, limit_key, now).status_or_ok());
  CPA_ASSIGN_OR_RETURN(
      store::OutboxMail queued,
      mail::sealed_mail(call.svc.keys.outbox, call.svc.rng, recipient,
                        mail::code_mail(code_purpose, code, call.svc.config.code_ttl)));
  // The mail names its code: if a newer one replaces it (or it dies) before
  // the mailer gets to it, this one is not sent.
  queued.code = store::CodeRef{user.id, code_purpose, row.code_hash};
  return store.enqueue_mail(queued, now);
}

Status probe_send_limit(Call& call, const std::string& limit_email_key, const char* code_purpose) {
  const std::string scope = send_scope(code_purpose);
  CPA_ASSIGN_OR_RETURN(int64_t wait, send_wait(call, scope, limit_email_key));
  if (wait > 0) return Status();
  // A code is made and hashed as for a real account, then dropped.
  const std::string code = auth::generate_code(call.svc.rng);
  (void)auth::hash_code(call.svc.keys.code, 0, code_purpose, code);
  return call.svc.store.add_throttle_event(scope, limit_email_key, call.now()).status_or_ok();
}

Result<store::Code> check_code(Call& call, int64_t user_id, const char* code_purpose,
                               const std::string& code, bool consume) {
  store::Store& store = call.svc.store;
  const int64_t now = call.now();
  CPA_ASSIGN_OR_RETURN(std::optional<store::Code> row, store.code_for(user_id, code_purpose));
  if (!row || row->used_at || row->expires_at <= now) return Status::Field("code", kInvalidCode);
  if (row->attempts >= limits::kCodeMaxWrongGuesses)
    return Status::Field("code", kTooManyAttempts);
  if (!auth::code_matches(row->code_hash, call.svc.keys.code, user_id, code_purpose, code)) {
    CPA_RETURN_IF_ERROR(store.set_code_attempts(user_id, code_purpose, row->attempts + 1));
    return Status::Field("code", kInvalidCode);
  }
  if (consume) CPA_RETURN_IF_ERROR(store.mark_code_used(user_id, code_purpose, now));
  return std::move(*row);
}

}  // namespace cpa::api
