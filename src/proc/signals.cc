#include "proc/signals.h"

#include <sys/prctl.h>

#include <cstring>
#include <initializer_list>

#include "core/log.h"

namespace cpa::proc {

volatile sig_atomic_t g_stop_requested = 0;
volatile sig_atomic_t g_reopen_log_requested = 0;

namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP};
// Meaningful to nginx, gunicorn or Apache; here nothing, and never fatal
// (but USR2 to the master: an upgrade, which it takes from this set too).
constexpr int kIgnoredSignals[] = {SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU, SIGPIPE};

void on_stop(int) { g_stop_requested = 1; }
void on_alarm(int) {}
void on_reopen(int) { g_reopen_log_requested = 1; }

void handle(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void install_child_signals(sigset_t* wait_mask) {
  sigset_t block;
  sigemptyset(&block);
  for (int s : kStopSignals) {
    handle(s, on_stop);
    sigaddset(&block, s);
  }
  handle(SIGUSR1, on_reopen);
  sigaddset(&block, SIGUSR1);
  for (int s : kIgnoredSignals) signal(s, SIG_IGN);
  // SIGALRM keeps the handler the SQLite store installed (a no-op that ends
  // a writer-gate wait): a stray one costs at most that wait. Where none was
  // installed (PostgreSQL has no gate), the same no-op: never fatal.
  struct sigaction alarm_action;
  if (sigaction(SIGALRM, nullptr, &alarm_action) == 0 && alarm_action.sa_handler == SIG_DFL)
    handle(SIGALRM, on_alarm);
  // The mask is set whole: what the master blocked for sigtimedwait() must
  // not stay blocked here, and these five must be blocked before anything
  // can send them.
  sigprocmask(SIG_SETMASK, &block, nullptr);
  sigemptyset(wait_mask);
}

bool stop_pending() {
  if (g_stop_requested) return true;
  sigset_t pending;
  sigpending(&pending);
  for (int s : kStopSignals)
    if (sigismember(&pending, s)) return true;
  return false;
}

void reopen_log_if_asked(const std::string& path) {
  if (!g_reopen_log_requested) return;
  g_reopen_log_requested = 0;
  std::string error;
  if (!log::open_file(path, &error))
    log::warn("SIGUSR1: " + error + "; still writing the old file");
}

sigset_t master_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kStopSignals) sigaddset(&set, s);
  for (int s : kIgnoredSignals) sigaddset(&set, s);
  for (int s : {SIGCHLD, SIGUSR1, SIGALRM}) sigaddset(&set, s);
  sigdelset(&set, SIGPIPE);  // ignored outright: a write to a closed pipe must not wait
  return set;
}

void reset_signals_for_exec() {
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGPIPE, SIGUSR1, SIGUSR2, SIGWINCH,
                SIGTTIN, SIGTTOU, SIGALRM})
    signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void set_process_name(const char* name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

}  // namespace cpa::proc
