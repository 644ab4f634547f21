// Signal plumbing shared by the master and its children. Each child keeps the
// signals it acts on (stop, reopen the log) blocked while it works and
// unblocks them only inside its wait (epoll_pwait/ppoll): a signal can never
// interrupt a request or a delivery halfway, and can never be lost between a
// check and a wait. The handlers only set a flag; the loop acts on it.
//
// What each signal means (README "Operating it"): TERM, INT, QUIT stop
// gracefully; HUP reloads (the master; a child told HUP stops and is
// replaced); USR1 reopens the log file; USR2 upgrades the master in place
// (proc/upgrade.h) and is ignored by a child; WINCH, TTIN, TTOU, ALRM and
// PIPE, which admins send to other servers by habit, are ignored: none is
// fatal.
#pragma once

#include <signal.h>

#include <string>

namespace cpa::proc {

// Set by the handlers installed by install_child_signals().
extern volatile sig_atomic_t g_stop_requested;
extern volatile sig_atomic_t g_reopen_log_requested;

// For a child of the master (worker, hasher, mailer): TERM, INT, QUIT and HUP
// set g_stop_requested, USR1 sets g_reopen_log_requested; those five are
// blocked from here on, and *wait_mask is the mask to wait with (nothing
// blocked). USR2, WINCH, TTIN, TTOU and PIPE are ignored.
void install_child_signals(sigset_t* wait_mask);

// A stop asked for, delivered or still pending behind the mask.
bool stop_pending();

// Reopens the log file at `path` if USR1 asked for it since the last call
// (logrotate has moved it away): the safe point is the caller's loop head.
void reopen_log_if_asked(const std::string& path);

// The signals the master waits for with sigtimedwait(): stop, reload, reopen,
// upgrade, its children, and those it ignores (so that none keeps its
// default, fatal action). They stay blocked across an upgrade's exec: one
// sent meanwhile waits, pending, for the new image.
sigset_t master_signals();

// Restores default dispositions and an empty mask: for a child about to exec.
void reset_signals_for_exec();

// Names the process (/proc/<pid>/comm): "cpa-worker", "cpa-mailer".
void set_process_name(const char* name);

}  // namespace cpa::proc
