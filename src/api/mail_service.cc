#include "api/mail_service.h"

#include "mail/outbox_seal.h"

namespace cpa::api {

Status queue_mail(Call& call, const std::string& recipient, const mail::Text& text,
                  std::optional<store::CodeRef> code) {
  CPA_ASSIGN_OR_RETURN(store::OutboxMail queued,
                       mail::sealed_mail(call.svc.keys.outbox, call.svc.rng, recipient, text));
  queued.code = std::move(code);
  return call.svc.store.enqueue_mail(queued, call.now());
}

}  // namespace cpa::api
