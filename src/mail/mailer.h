// Mailer: delivers due outbox rows through a Backend, marks each sent,
// retries failures with exponential backoff (1 s, 2 s, 4 s ... capped at one
// hour) and parks permanent refusals as failed. Code mails go first, and a
// code mail whose code is no longer live when its turn comes (first attempt
// or retry) is not sent but marked expired. Sealed rows are opened just
// before sending; one that does not open is marked failed. Each outcome is
// logged (recipient domain, id, outcome; never the body).
//
// This is the delivery logic only; proc/mailer_process.cc runs it in a loop
// and wakes it when a worker queues mail.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "core/clock.h"
#include "core/status.h"
#include "mail/backend.h"
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

class Mailer {
 public:
  Mailer(store::Store& store, Backend& backend, const Clock& clock, MailerOptions options)
      : store_(store), backend_(backend), clock_(clock), options_(std::move(options)) {}

  // Delivers at most `max` due messages; *delivered counts those sent.
  // `should_stop` is asked between messages (never during one). Each outcome
  // is recorded through Store::write(); with an idempotent backend the
  // deliveries of one call are recorded together, in one transaction.
  Status deliver_due(int max, int* delivered,
                     const std::function<bool()>& should_stop = nullptr);

  // Seconds until the next pending message is due (0 = now); nullopt if none.
  Result<std::optional<int64_t>> seconds_until_next();

 private:
  store::Store& store_;
  Backend& backend_;
  const Clock& clock_;
  MailerOptions options_;
};

}  // namespace cpa::mail
