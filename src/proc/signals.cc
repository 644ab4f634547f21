#include "proc/signals.h"

#include <sys/prctl.h>

#include <cstring>
#include <initializer_list>

namespace cpa::proc {

volatile sig_atomic_t g_stop_requested = 0;

namespace {
void on_stop(int) { g_stop_requested = 1; }
}  // namespace

void install_stop_handler(sigset_t* wait_mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, wait_mask);
  sigdelset(wait_mask, SIGTERM);
  sigdelset(wait_mask, SIGINT);
  sigdelset(wait_mask, SIGHUP);
}

void reset_signals_for_exec() {
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2})
    signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void set_process_name(const char* name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

}  // namespace cpa::proc
