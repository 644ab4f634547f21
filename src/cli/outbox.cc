// `outbox list|retry`: the mail queue from the shell. Subjects are opened
// (rows are sealed at rest); bodies carry codes and are never printed.
#include <cstdio>

#include "auth/keys.h"
#include "cli/cli.h"
#include "core/strings.h"
#include "mail/outbox_seal.h"

namespace cpa::cli {

Outcome outbox_list(Context& ctx, const Args& args) {
  bool pending = args.has("--pending");
  bool failed = args.has("--failed");
  if (pending && failed) return Outcome::Usage("--pending and --failed exclude each other");
  CPA_ASSIGN_OR_RETURN(int64_t limit, limit_option(args, kDefaultListLimit, kMaxListLimit));
  store::MailFilter filter = pending  ? store::MailFilter::kPending
                             : failed ? store::MailFilter::kFailed
                                      : store::MailFilter::kAll;
  CPA_ASSIGN_OR_RETURN(std::vector<store::Mail> mail, ctx.store.list_mail(filter, limit));
  const std::string seal_key = auth::Keys::derive(ctx.config.secret_key).outbox;
  Table table({"id", "status", "attempts", "recipient", "subject", "created", "last error"});
  for (const store::Mail& m : mail) {
    std::optional<std::string> subject = mail::open_subject(seal_key, m);
    table.add({std::to_string(m.id), printable(m.status), std::to_string(m.attempts),
               printable(m.recipient), subject ? printable(*subject) : "(does not open)",
               iso_time(m.created_at), m.last_error ? printable(*m.last_error) : "-"});
  }
  table.print();
  return Outcome();
}

Outcome outbox_retry(Context& ctx, const Args& args) {
  bool all_failed = args.has("--all-failed");
  if (all_failed == !args.operands.empty()) return Outcome::Usage("give either an ID or --all-failed");
  std::optional<int64_t> id;
  if (!all_failed) {
    id = parse_decimal(args.operands[0]);
    if (!id) return Outcome::Usage("ID must be a message id (digits)");
  }
  int64_t made_due = 0;
  CPA_RETURN_IF_ERROR(write(ctx.store, [&]() -> Outcome {
    int64_t now = ctx.clock.now();
    if (!id) {
      CPA_ASSIGN_OR_RETURN(made_due, ctx.store.retry_all_failed_mail(now));
      return Outcome();
    }
    CPA_ASSIGN_OR_RETURN(auto mail, ctx.store.mail_by_id(*id));
    if (!mail) return Outcome::Refused("no outbox message " + std::to_string(*id));
    if (mail->status == "sent") return Outcome::Refused("message " + std::to_string(*id) + " was already sent");
    if (mail->status == "expired")
      return Outcome::Refused("message " + std::to_string(*id) + " expired: its code is no longer live");
    CPA_ASSIGN_OR_RETURN(made_due, ctx.store.retry_mail(*id, now));
    return Outcome();
  }));
  ctx.done = std::to_string(made_due) + (made_due == 1 ? " message" : " messages") + " made due";
  return Outcome();
}

}  // namespace cpa::cli
