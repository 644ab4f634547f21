// The master process: owns the FastCGI socket, forks AUTH_WORKERS workers and
// one mailer (and, for `run`, nginx), restarts any child that dies (backing
// off when one crashes in a loop), replaces workers gracefully on SIGHUP, and
// on SIGTERM/SIGINT stops everything gracefully: nginx first (QUIT: it stops
// accepting and finishes its requests), then the pool (each worker finishes
// what it has accepted; at most 10 s), then the mailer (the message in hand).
// On SIGUSR2 it upgrades in place: the binary on disk, rehearsed first, is
// executed in this very process, and takes the sockets and the children
// over (proc/upgrade.h).
#pragma once

#include <string>

#include "core/config.h"

namespace cpa::proc {

struct MasterOptions {
  bool with_nginx = false;   // `run`: also start and supervise nginx
  std::string config_file;   // --config FILE, re-read on SIGHUP
};

// Prepares the state dir (state/prepare.h: secret key, migrations), then
// supervises until stopped. Returns the process exit status.
int run_master(Config config, const MasterOptions& options);

}  // namespace cpa::proc
