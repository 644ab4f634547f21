// Signal plumbing shared by the master and its children. Each process keeps
// SIGTERM/SIGINT/SIGHUP blocked while it works and unblocks them only inside
// its wait (epoll_pwait/ppoll): a stop request can never interrupt a request
// or a delivery halfway, and can never be lost between a check and a wait.
#pragma once

#include <signal.h>

namespace cpa::proc {

// Set by the handler installed by install_stop_handler().
extern volatile sig_atomic_t g_stop_requested;

// Blocks SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE-ignored; fills *wait_mask
// with the mask to use while waiting (the same, minus SIGTERM/SIGINT/SIGHUP).
void install_stop_handler(sigset_t* wait_mask);

// Restores default dispositions and an empty mask: for a child about to exec.
void reset_signals_for_exec();

// Names the process (ps, /proc/<pid>/comm): "cpa-worker", "cpa-mailer".
void set_process_name(const char* name);

}  // namespace cpa::proc
