// Mailer: delivers due outbox rows over one or more senders at once (each a
// thread with its own Backend: its own SMTP connection, reused from message
// to message), marks each sent, retries failures with exponential backoff
// (1 s, 2 s, 4 s ... capped at one hour) and parks permanent refusals as
// failed. Code mails go first. Each outcome is logged (recipient domain, id,
// outcome; never the body).
//
// When a row's turn comes (a sender is idle and the row is claimed for it):
// a code mail whose code is no longer live (replaced, used, expired, burnt,
// its user deleted) is not sent but marked expired in the claim's own
// transaction, whether it is the first attempt or a retry; a sealed row is
// opened, and one that does not open is marked failed.
//
// An outcome the database cannot take yet (PostgreSQL restarting, a busy
// writer) stays in hand and is recorded by a later pump(): the row keeps its
// lease meanwhile, so that mail is not sent again.
//
// Threads: the thread that made the Mailer owns it and the Store. It alone
// reads the queue and records outcomes; it gives each row to exactly one
// idle sender, and a row in hand (or delivered and not yet recorded) is not
// fetched again. proc/mailer_process.cc runs it in a loop, woken by
// ready_fd() and by workers queuing mail.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "mail/backend.h"
#include "mail/sender.h"
#include "store/store.h"

namespace cpa::mail {

inline constexpr int64_t kMaxBackoffSeconds = 3600;

// Seconds to wait after the `attempts`-th failed attempt (1-based).
int64_t backoff_seconds(int attempts);

struct MailerOptions {
  std::string from = {};               // the sender address
  std::string seal_key = {};           // Keys::outbox: opens sealed rows
  int code_max_wrong_guesses = 0;      // a code guessed wrong this often is dead (API limit)
};

// Outcomes recorded since the Mailer was made.
struct MailerStats {
  int64_t sent = 0;
  int64_t retried = 0;
  int64_t failed = 0;
  int64_t expired = 0;
};

class Mailer {
 public:
  // One sender per backend (at least one).
  Mailer(store::Store& store, std::vector<std::unique_ptr<Backend>> backends, const Clock& clock,
         MailerOptions options);
  // Joins the senders after the messages in hand; call finish() first to
  // have those recorded.
  ~Mailer();
  Mailer(const Mailer&) = delete;
  Mailer& operator=(const Mailer&) = delete;

  // Collects what the senders finished, gives due rows to the idle ones,
  // then records the outcomes. Never waits for a delivery.
  Status pump();
  // For a stop: gives out nothing more, waits for the messages in hand and
  // records them (waiting a few seconds for a database that is away).
  Status finish();

  // Readable when a sender has finished a message: then pump().
  int ready_fd() const { return finished_.fd(); }
  // A message is in a sender's hands.
  bool busy() const;
  // Seconds until the next pending message is due (0 = now); nullopt if none.
  Result<std::optional<int64_t>> seconds_until_next();
  const MailerStats& stats() const { return stats_; }

 private:
  // What happened to a row, and when: a delivery's outcome, or why it was
  // not sent.
  struct Outcome {
    enum class Kind { kDelivered, kUnopenable };
    store::Mail mail;
    Kind kind = Kind::kDelivered;
    Delivery delivery;
    int64_t at = 0;
  };

  void collect();
  Status hand_out();
  void take_turn(store::Mail mail, size_t sender);
  Status record();
  // Logs what the batch came to (and counts it when `recorded` is ok);
  // its rows may be fetched again.
  void report(const std::vector<Outcome>& batch, const Status& recorded);
  std::optional<size_t> idle_sender() const;

  store::Store& store_;
  const Clock& clock_;
  MailerOptions options_;
  FinishedQueue finished_;
  std::vector<std::unique_ptr<Sender>> senders_;
  std::vector<std::optional<store::Mail>> in_hand_;  // per sender
  std::vector<Outcome> to_record_;
  std::set<int64_t> taken_;  // ids in hand or awaiting record: not fetched again
  bool stopping_ = false;
  MailerStats stats_;
};

}  // namespace cpa::mail
