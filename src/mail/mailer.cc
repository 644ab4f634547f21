#include "mail/mailer.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"
#include "mail/outbox_seal.h"

namespace cpa::mail {
namespace {

constexpr int kRecordTries = 5;
constexpr const char* kUnopenable =
    "the sealed message does not open (AUTH_SECRET_KEY changed, or the row was altered)";

// What the log may say about a recipient: its domain, never the mailbox.
std::string recipient_domain(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "?";
  std::string domain;
  for (char c : address.substr(at + 1)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u > 0x20 && u != 0x7f) domain.push_back(c);
  }
  return domain.empty() ? "?" : domain;
}

std::string describe(const store::Mail& mail, int attempt, std::string_view outcome) {
  std::string line = "mail id=" + std::to_string(mail.id) + " to=@" +
                     recipient_domain(mail.recipient) + " attempt=" + std::to_string(attempt) +
                     " outcome=";
  line.append(outcome);
  return line;
}

}  // namespace

int64_t backoff_seconds(int attempts) {
  if (attempts <= 1) return 1;
  if (attempts - 1 >= 31) return kMaxBackoffSeconds;  // 2^31 is far past the cap
  return std::min<int64_t>(int64_t{1} << (attempts - 1), kMaxBackoffSeconds);
}

Status Mailer::deliver_due(int max, int* delivered, const std::function<bool()>& should_stop) {
  if (delivered != nullptr) *delivered = 0;
  CPA_ASSIGN_OR_RETURN(std::vector<store::Mail> due, store_.due_mail(clock_.now(), max));
  std::vector<const store::Mail*> batch;  // delivered, recorded together below
  auto record_sent = [&](const std::vector<const store::Mail*>& mails) -> Status {
    const int64_t now = clock_.now();
    // Delivered mail that is not recorded goes out again: a busy database
    // (503) is worth a few more waits before giving up.
    Status st;
    for (int tries = 0; tries < kRecordTries; ++tries) {
      st = store_.write([&]() -> Status {
        for (const store::Mail* m : mails) CPA_RETURN_IF_ERROR(store_.mark_mail_sent(m->id, now));
        return Status();
      });
      if (st.kind() != Status::Kind::kUnavailable) break;
    }
    for (const store::Mail* m : mails) {
      if (st.ok()) {
        log::info(describe(*m, m->attempts + 1, "sent"));
      } else {
        // The relay has it but the row still says pending: it will go again.
        log::error(describe(*m, m->attempts + 1, "sent") +
                   " but not recorded (may be delivered twice): " + st.reason());
      }
    }
    if (st.ok() && delivered != nullptr) *delivered += static_cast<int>(mails.size());
    return st;
  };

  Status st;
  for (const store::Mail& mail : due) {
    if (should_stop && should_stop()) break;

    // Right before sending: a code replaced, used or expired since the mail
    // was queued (or since its last attempt) must not reach the inbox.
    if (mail.code) {
      Result<bool> live =
          store_.code_is_live(*mail.code, clock_.now(), options_.code_max_wrong_guesses);
      if (!live.ok()) {
        st = live.status();
        break;
      }
      if (!*live) {
        st = store_.write([&] { return store_.mark_mail_expired(mail.id); });
        if (!st.ok()) break;
        log::info(describe(mail, mail.attempts, "expired"));
        continue;
      }
    }

    std::optional<Text> text = open_mail(options_.seal_key, mail);
    if (!text) {
      // Sealed under another key (AUTH_SECRET_KEY changed) or altered: it
      // can never be sent, and retrying will not change that.
      st = store_.write([&] { return store_.mark_mail_failed(mail.id, mail.attempts, kUnopenable); });
      if (!st.ok()) break;
      log::warn(describe(mail, mail.attempts, "failed") + " error=" + kUnopenable);
      continue;
    }

    Message message;
    message.id = mail.id;
    message.from = options_.from;
    message.to = mail.recipient;
    message.subject = std::move(text->subject);
    message.body = std::move(text->body);
    message.created_at = mail.created_at;
    Delivery d = backend_.deliver(message);

    const int attempt = mail.attempts + 1;
    const int64_t now = clock_.now();  // a delivery may take a while
    switch (d.outcome) {
      case Delivery::Outcome::kSent:
        if (backend_.idempotent()) {
          batch.push_back(&mail);
        } else {
          st = record_sent({&mail});
        }
        break;
      case Delivery::Outcome::kRetry: {
        int64_t wait = backoff_seconds(attempt);
        st = store_.write(
            [&] { return store_.mark_mail_retry(mail.id, attempt, now + wait, d.error); });
        log::warn(describe(mail, attempt, "retry") + " next_in=" + std::to_string(wait) +
                  "s error=" + d.error);
        break;
      }
      case Delivery::Outcome::kPermanent:
        st = store_.write([&] { return store_.mark_mail_failed(mail.id, attempt, d.error); });
        log::warn(describe(mail, attempt, "failed") + " error=" + d.error);
        break;
    }
    if (!st.ok()) break;
  }
  if (!batch.empty()) {
    Status recorded = record_sent(batch);
    if (st.ok()) st = recorded;
  }
  return st;
}

Result<std::optional<int64_t>> Mailer::seconds_until_next() {
  CPA_ASSIGN_OR_RETURN(std::optional<int64_t> next, store_.next_mail_due());
  if (!next) return std::optional<int64_t>();
  return std::optional<int64_t>(std::max<int64_t>(0, *next - clock_.now()));
}

}  // namespace cpa::mail
