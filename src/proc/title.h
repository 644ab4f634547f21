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

// Call first in main, before anything else keeps a pointer into argv or the
// environment: it moves the environment strings to the heap (environ then
// points there, getenv and setenv keep working) and notes how much room the
// original strings leave. argv's strings are overwritten by the first title:
// copy them before that.
void init_process_title(int argc, char** argv);

// Writes `title` into that room (cut to fit), the rest zeroed.
void set_process_title(std::string_view title);

}  // namespace cpa::proc
