// The mailer process: runs mail::Mailer, with AUTH_MAIL_CONNECTIONS senders,
// until told to stop. Woken by a byte on the wake-up pipe when a worker
// commits mail, by a sender that finished a message, else by the next
// retry's due time (and at least every second, for rows the CLI made due).
// Also does the housekeeping no request should pay for: pruning expired
// tokens, old throttle events and delivered or expired mail, and, when the
// queue is idle, a checkpoint that empties the WAL.
#pragma once

#include "core/config.h"
#include "metrics/counters.h"

namespace cpa::proc {

// Exits the process. On SIGTERM it finishes the messages in hand (one per
// sender), records them, then exits. Each delivery recorded is added to
// `counters` (the master's shared block).
[[noreturn]] void run_mailer(const Config& config, int wake_fd, metrics::Counters& counters);

}  // namespace cpa::proc
