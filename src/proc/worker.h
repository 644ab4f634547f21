// A FastCGI worker: accepts connections on the shared listening socket and
// serves one request at a time until told to stop; a pool worker (not a
// hasher) keeps the connections nginx asks it to keep and serves their next
// requests too (proc/connections.h). On SIGTERM it finishes the request in
// hand, serves what is already queued on the socket and what its kept
// connections bring until nginx has closed them, and exits.
#pragma once

#include "core/config.h"
#include "metrics/counters.h"

namespace cpa::proc {

// Which pool a worker serves. Both serve every route; a hasher is where nginx
// sends the routes that spend a password hash, so that a flood of logins
// occupies the hashers and never the workers the cheap routes need.
// (Same priority: a lower one would let the cheap routes' writers starve the
// hashers' at the writer gate.)
enum class WorkerKind { kWorker, kHasher };

// Never returns normally: exits the process. `listen_fd` is non-blocking;
// `wake_fd` is the write end of the mailer's wake-up pipe (non-blocking);
// `counters` the master's shared block, which every request answered adds to.
[[noreturn]] void run_worker(const Config& config, int listen_fd, int wake_fd, WorkerKind kind,
                             metrics::Counters& counters);

}  // namespace cpa::proc
