// Process titles: `ps` shows each process's role, as it does for nginx and
// PostgreSQL ("cryptopay-auth: master", "cryptopay-auth: worker", ...). The
// kernel shows the memory argv points to (/proc/<pid>/cmdline), so the title
// is written over the argv strings and, beyond them, over the environment
// strings that follow, once those have been copied elsewhere: nginx's
// ngx_setproctitle technique. It needs no privilege, unlike
// prctl(PR_SET_MM_ARG_START), which needs CAP_SYS_RESOURCE. comm (prctl
// PR_SET_NAME, proc/signals.h) is separate and stays short ("cpa-worker").
#pragma once

#include <string_view>

namespace cpa::proc {

// The environment's copies init_process_title() made, listed once more where
// nothing edits the list: unsetenv() (an upgrade's handover variables) drops
// a string from environ, and the copy must stay reachable all the same, as
// it lives as long as the process (LeakSanitizer would call it lost at
// exit). Visible outside title.cc so that no compiler drops the store.
extern char** g_environment_copies;

// Call first in main, before anything else keeps a pointer into argv or the
// environment: it moves the environment strings to the heap (environ then
// points there, getenv and setenv keep working) and notes how much room the
// original strings leave. argv's strings are overwritten by the first title:
// copy them before that.
void init_process_title(int argc, char** argv);

// Writes `title` into that room (cut to fit), the rest zeroed.
void set_process_title(std::string_view title);

}  // namespace cpa::proc
