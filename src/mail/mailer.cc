#include "mail/mailer.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

#include "core/log.h"
#include "mail/outbox_seal.h"

namespace cpa::mail {
namespace {

// How long a claimed row stays this mailer's: longer than one delivery may
// take (the SMTP backend gives up after 60 s).
constexpr int64_t kLeaseSeconds = 90;
// Outcomes recorded together at most (one transaction).
constexpr size_t kRecordBatch = 64;
// A stop while the database is away (a PostgreSQL restart) waits this many
// seconds for it before the outcomes in hand are given up.
constexpr int kFinishRecordTries = 3;
constexpr const char* kUnopenable =
    "the sealed message does not open (AUTH_SECRET_KEY changed, or the row was altered)";

// What the log may say about a recipient: its domain, never the mailbox.
std::string recipient_domain(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "?";
  std::string domain = log::escape(address.substr(at + 1));
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

Mailer::Mailer(store::Store& store, std::vector<std::unique_ptr<Backend>> backends,
               const Clock& clock, MailerOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {
  for (std::unique_ptr<Backend>& backend : backends)
    senders_.push_back(std::make_unique<Sender>(senders_.size(), std::move(backend), finished_));
  in_hand_.resize(senders_.size());
}

Mailer::~Mailer() = default;

bool Mailer::busy() const {
  return std::any_of(in_hand_.begin(), in_hand_.end(), [](const auto& m) { return m.has_value(); });
}

std::optional<size_t> Mailer::idle_sender() const {
  for (size_t i = 0; i < in_hand_.size(); ++i)
    if (!in_hand_[i]) return i;
  return std::nullopt;
}

Status Mailer::pump() {
  collect();
  // Rows go out before the finished ones are recorded, so that no sender
  // waits on the database.
  Status st = stopping_ ? Status() : hand_out();
  Status recorded = record();
  return st.ok() ? recorded : st;
}

Status Mailer::finish() {
  stopping_ = true;
  while (busy()) {
    struct pollfd p{finished_.fd(), POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
    collect();
  }
  Status st = record();
  for (int tries = 1; tries < kFinishRecordTries && !to_record_.empty(); ++tries) {
    poll(nullptr, 0, 1000);
    st = record();
  }
  if (!to_record_.empty()) {
    std::vector<Outcome> lost;
    lost.swap(to_record_);
    report(lost, st);
  }
  return st;
}

void Mailer::collect() {
  for (Finished& f : finished_.take()) {
    std::optional<store::Mail>& mail = in_hand_[f.sender];
    if (!mail) continue;
    to_record_.push_back(Outcome{std::move(*mail), Outcome::Kind::kDelivered,
                                 std::move(f.delivery), clock_.now()});
    mail.reset();
  }
}

Status Mailer::hand_out() {
  for (;;) {
    const int idle = static_cast<int>(
        std::count_if(in_hand_.begin(), in_hand_.end(), [](const auto& m) { return !m; }));
    if (idle == 0) break;
    // As many rows as there are idle senders, each claimed for this mailer
    // alone: another mailer (another node's) skips them until the lease
    // ends. A code mail whose code is no longer live is expired in the same
    // transaction, so that a row is never claimed and then left unhandled.
    const int64_t now = clock_.now();
    std::vector<store::Mail> due, dead;
    CPA_RETURN_IF_ERROR(store_.write([&]() -> Status {
      due.clear();
      dead.clear();
      CPA_ASSIGN_OR_RETURN(std::vector<store::Mail> claimed,
                           store_.claim_due_mail(now, idle, now + kLeaseSeconds));
      for (store::Mail& mail : claimed) {
        if (mail.code) {
          CPA_ASSIGN_OR_RETURN(bool live, store_.code_is_live(*mail.code, now,
                                                              options_.code_max_wrong_guesses));
          if (!live) {
            CPA_RETURN_IF_ERROR(store_.mark_mail_expired(mail.id));
            dead.push_back(std::move(mail));
            continue;
          }
        }
        due.push_back(std::move(mail));
      }
      return Status();
    }));
    for (const store::Mail& mail : dead) {
      ++stats_.expired;
      log::info(describe(mail, mail.attempts, "expired"));
    }
    if (due.empty() && dead.empty()) break;  // nothing more is due
    for (store::Mail& mail : due) {
      std::optional<size_t> sender = idle_sender();
      if (!sender) break;
      if (taken_.count(mail.id) != 0) continue;
      take_turn(std::move(mail), *sender);
    }
    if (to_record_.size() >= kRecordBatch) CPA_RETURN_IF_ERROR(record());
  }
  return Status();
}

// The row's turn: opened now, right before it goes.
void Mailer::take_turn(store::Mail mail, size_t sender) {
  taken_.insert(mail.id);
  std::optional<Text> text = open_mail(options_.seal_key, mail);
  if (!text) {
    // Sealed under another key (AUTH_SECRET_KEY changed) or altered: it can
    // never be sent, and retrying will not change that.
    Outcome unopenable;
    unopenable.mail = std::move(mail);
    unopenable.kind = Outcome::Kind::kUnopenable;
    unopenable.at = clock_.now();
    to_record_.push_back(std::move(unopenable));
    return;
  }
  Message message;
  message.id = mail.id;
  message.from = options_.from;
  message.to = mail.recipient;
  message.subject = std::move(text->subject);
  message.body = std::move(text->body);
  message.created_at = mail.created_at;
  in_hand_[sender] = std::move(mail);
  senders_[sender]->send(std::move(message));
}

Status Mailer::record() {
  if (to_record_.empty()) return Status();
  auto apply = [&](const Outcome& o) -> Status {
    const store::Mail& m = o.mail;
    const int attempt = m.attempts + 1;
    if (o.kind == Outcome::Kind::kUnopenable)
      return store_.mark_mail_failed(m.id, m.attempts, kUnopenable);
    switch (o.delivery.outcome) {
      case Delivery::Outcome::kSent:
        return store_.mark_mail_sent(m.id, o.at);
      case Delivery::Outcome::kRetry:
        return store_.mark_mail_retry(m.id, attempt, o.at + backoff_seconds(attempt),
                                      o.delivery.error);
      case Delivery::Outcome::kPermanent:
        return store_.mark_mail_failed(m.id, attempt, o.delivery.error);
    }
    return Status();
  };
  Status st = store_.write([&]() -> Status {
    for (const Outcome& o : to_record_) CPA_RETURN_IF_ERROR(apply(o));
    return Status();
  });
  // The database away (a restart, a busy writer): the outcomes stay in hand
  // and a later call records them. Dropped, a delivered row would go again
  // when its lease ends.
  if (st.kind() == Status::Kind::kUnavailable) return st;
  std::vector<Outcome> batch;
  batch.swap(to_record_);
  report(batch, st);
  return st;
}

void Mailer::report(const std::vector<Outcome>& batch, const Status& recorded) {
  const bool ok = recorded.ok();
  for (const Outcome& o : batch) {
    taken_.erase(o.mail.id);
    const store::Mail& m = o.mail;
    const int attempt = m.attempts + 1;
    if (o.kind == Outcome::Kind::kUnopenable) {
      if (ok) ++stats_.failed;
      log::warn(describe(m, m.attempts, "failed") + " error=" + kUnopenable);
      continue;
    }
    switch (o.delivery.outcome) {
      case Delivery::Outcome::kSent:
        if (ok) {
          ++stats_.sent;
          log::info(describe(m, attempt, "sent"));
        } else {
          // The relay has it but the row still says pending: it will go again.
          log::error(describe(m, attempt, "sent") +
                     " but not recorded (may be delivered twice): " + recorded.reason());
        }
        break;
      case Delivery::Outcome::kRetry:
        if (ok) ++stats_.retried;
        log::warn(describe(m, attempt, "retry") + " next_in=" +
                  std::to_string(backoff_seconds(attempt)) + "s error=" + o.delivery.error);
        break;
      case Delivery::Outcome::kPermanent:
        if (ok) ++stats_.failed;
        log::warn(describe(m, attempt, "failed") + " error=" + o.delivery.error);
        break;
    }
  }
}

Result<std::optional<int64_t>> Mailer::seconds_until_next() {
  CPA_ASSIGN_OR_RETURN(std::optional<int64_t> next, store_.next_mail_due());
  if (!next) return std::optional<int64_t>();
  return std::optional<int64_t>(std::max<int64_t>(0, *next - clock_.now()));
}

}  // namespace cpa::mail
