#include "proc/mailer_process.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "api/limits.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/log.h"
#include "mail/backend.h"
#include "mail/mailer.h"
#include "metrics/counters.h"
#include "proc/signals.h"
#include "proc/title.h"
#include "store/store.h"

namespace cpa::proc {
namespace {

constexpr int64_t kHousekeepingEvery = 60;
constexpr int64_t kKeepExpiredTokens = 86400;     // then their rows go
constexpr int64_t kKeepThrottleEvents = 2 * 3600; // longer than the longest window (1 h)
constexpr int64_t kKeepDoneMail = 7 * 86400;     // sent or expired

// One write transaction, through the writer gate like every other writer.
void prune(store::Store& store, int64_t now) {
  Status s = store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(store.prune_tokens(now - kKeepExpiredTokens));
    CPA_RETURN_IF_ERROR(store.prune_throttle_events(now - kKeepThrottleEvents));
    CPA_RETURN_IF_ERROR(store.prune_code_decoys(now));
    return store.prune_done_mail(now - kKeepDoneMail);
  });
  if (!s.ok()) log::warn("housekeeping: " + s.reason());
}

// Empties the WAL, so that frames of sealed mail since sent, of codes since
// replaced, of deleted rows, do not stay on disk. A reader in the way only
// postpones it to the next round.
void checkpoint(store::Store& store) {
  Result<bool> done = store.checkpoint();
  if (!done.ok()) log::warn("checkpoint: " + done.status().reason());
}

// Adds the deliveries recorded since the last call to the shared counters.
class DeliveredCount {
 public:
  explicit DeliveredCount(metrics::Counters& counters) : counters_(counters) {}
  void update(const mail::MailerStats& stats) {
    counters_.count_mails_delivered(static_cast<uint64_t>(stats.sent - counted_));
    counted_ = stats.sent;
  }

 private:
  metrics::Counters& counters_;
  int64_t counted_ = 0;
};

}  // namespace

void run_mailer(const Config& config, int wake_fd, metrics::Counters& counters) {
  log::set_role("mailer");
  set_process_name("cpa-mailer");
  set_process_title("cryptopay-auth: mailer");
  sigset_t wait_mask;
  install_child_signals(&wait_mask);

  auto opened = store::Store::open(config.database(), config.db_busy_timeout_ms);
  if (!opened.ok()) {
    log::error("cannot open the database: " + opened.status().reason());
    _exit(3);
  }
  std::unique_ptr<store::Store> store = std::move(opened.value());
  // One backend per sender: each SMTP sender keeps a relay connection.
  std::vector<std::unique_ptr<mail::Backend>> backends;
  for (int i = 0; i < config.mail_connections; ++i) backends.push_back(mail::make_backend(config));
  SystemClock clock;
  auth::Keys keys = auth::Keys::derive(config.secret_key);
  mail::Mailer mailer(*store, std::move(backends), clock,
                      {.from = config.mail_from,
                       .seal_key = keys.outbox,
                       .code_max_wrong_guesses = api::limits::kCodeMaxWrongGuesses});
  int64_t next_housekeeping = 0;
  bool checkpoint_wanted = false;
  DeliveredCount delivered(counters);

  for (;;) {
    if (stop_pending()) {
      // The messages in hand are finished and recorded; no other starts.
      Status s = mailer.finish();
      if (!s.ok()) log::warn("outbox: " + s.reason());
      delivered.update(mailer.stats());
      _exit(0);
    }
    reopen_log_if_asked(config.log_file);
    int64_t timeout_ms = 1000;
    bool idle = false;
    Status db = store->check_file();
    if (db.ok()) {
      Status s = mailer.pump();
      delivered.update(mailer.stats());
      if (!s.ok()) {
        log::warn("outbox: " + s.reason());
      } else if (!mailer.busy()) {
        // Every sender idle, so nothing was due that pump() could hand out
        // (unless it fell due since).
        auto due = mailer.seconds_until_next();
        if (due.ok() && due.value()) timeout_ms = std::min<int64_t>(*due.value() * 1000, 1000);
        idle = due.ok() && timeout_ms > 0;
      }
      int64_t now = clock.now();
      if (now >= next_housekeeping) {
        prune(*store, now);
        next_housekeeping = now + kHousekeepingEvery;
        checkpoint_wanted = true;
      }
      if (checkpoint_wanted && idle) {
        checkpoint(*store);
        checkpoint_wanted = false;
      }
    } else {
      log::warn("outbox: database unavailable: " + db.reason());
    }
    // Woken by this node's workers (the pipe), a sender done, or mail
    // another node queued (PostgreSQL's NOTIFY on the store's connection).
    const int notified_fd = store->mail_wake_fd();
    struct pollfd fds[3] = {{wake_fd, POLLIN, 0},
                            {mailer.ready_fd(), POLLIN, 0},
                            {notified_fd, POLLIN, 0}};
    struct timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
    int n = ppoll(fds, notified_fd >= 0 ? 3 : 2, &ts, &wait_mask);
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      char buf[256];
      while (read(wake_fd, buf, sizeof buf) > 0) {
      }
    }
    if (n > 0 && notified_fd >= 0 && fds[2].revents != 0) store->consume_mail_wakes();
  }
}

}  // namespace cpa::proc
