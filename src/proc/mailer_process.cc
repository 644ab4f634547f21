#include "proc/mailer_process.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "api/limits.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/log.h"
#include "mail/backend.h"
#include "mail/mailer.h"
#include "proc/signals.h"
#include "store/store.h"

namespace cpa::proc {
namespace {

constexpr int64_t kHousekeepingEvery = 60;
constexpr int kBatch = 64;  // messages per round, recorded together when the backend allows
constexpr int64_t kKeepExpiredTokens = 86400;     // then their rows go
constexpr int64_t kKeepThrottleEvents = 2 * 3600; // longer than the longest window (1 h)
constexpr int64_t kKeepDoneMail = 7 * 86400;     // sent or expired

// A stop request pending while signals are blocked (we are mid-delivery).
bool stop_pending() {
  sigset_t pending;
  sigpending(&pending);
  return g_stop_requested || sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
}

// The prunes in one write transaction, through the writer gate like every
// other writer. Then, the queue being idle, a checkpoint that empties the
// WAL: frames of sealed mail since sent, of codes since replaced, of deleted
// rows, do not stay on disk. A reader in the way only postpones it.
void housekeeping(store::Store& store, int64_t now) {
  Status s = store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(store.prune_tokens(now - kKeepExpiredTokens));
    CPA_RETURN_IF_ERROR(store.prune_throttle_events(now - kKeepThrottleEvents));
    return store.prune_done_mail(now - kKeepDoneMail);
  });
  if (!s.ok()) log::warn("housekeeping: " + s.reason());
  Result<bool> checkpointed = store.checkpoint();
  if (!checkpointed.ok()) log::warn("checkpoint: " + checkpointed.status().reason());
}

}  // namespace

void run_mailer(const Config& config, int wake_fd) {
  log::set_role("mailer");
  set_process_name("cpa-mailer");
  sigset_t wait_mask;
  install_stop_handler(&wait_mask);

  auto opened = store::Store::open(config.db_path, config.db_busy_timeout_ms);
  if (!opened.ok()) {
    log::error("cannot open the database: " + opened.status().reason());
    _exit(3);
  }
  std::unique_ptr<store::Store> store = std::move(opened.value());
  std::unique_ptr<mail::Backend> backend = mail::make_backend(config);
  SystemClock clock;
  auth::Keys keys = auth::Keys::derive(config.secret_key);
  mail::Mailer mailer(*store, *backend, clock,
                      {.from = config.mail_from,
                       .seal_key = keys.outbox,
                       .code_max_wrong_guesses = api::limits::kCodeMaxWrongGuesses});
  int64_t next_housekeeping = 0;

  for (;;) {
    if (stop_pending()) _exit(0);
    int64_t timeout_ms = 1000;
    Status db = store->check_file();
    if (db.ok()) {
      // Up to a batch at a time; a stop request is looked at between messages,
      // so it waits for the message in hand only.
      for (;;) {
        int delivered = 0;
        Status s = mailer.deliver_due(kBatch, &delivered, stop_pending);
        if (stop_pending()) _exit(0);
        if (!s.ok()) {
          log::warn("outbox: " + s.reason());
          break;
        }
        auto due = mailer.seconds_until_next();
        if (due.ok() && due.value() && *due.value() == 0) continue;  // more is due now
        if (due.ok() && due.value()) timeout_ms = std::min<int64_t>(*due.value() * 1000, 1000);
        break;
      }
      int64_t now = clock.now();
      if (now >= next_housekeeping) {
        housekeeping(*store, now);
        next_housekeeping = now + kHousekeepingEvery;
      }
    } else {
      log::warn("outbox: database unavailable: " + db.reason());
    }
    struct pollfd pfd{wake_fd, POLLIN, 0};
    struct timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
    int n = ppoll(&pfd, 1, &ts, &wait_mask);
    if (n > 0) {
      char buf[256];
      while (read(wake_fd, buf, sizeof buf) > 0) {
      }
    }
  }
}

}  // namespace cpa::proc
