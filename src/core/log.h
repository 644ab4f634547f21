// Logging: one line per event, written with a single write(2) so that lines
// from concurrent processes never interleave. Lines go to stderr and to the
// log file under AUTH_STATE_DIR. Callers must never pass a body, password,
// code, PIN or token: log what happened, not what was sent.
#pragma once

#include <string>
#include <string_view>

namespace cpa::log {

// Opens (appends to) `path`, replacing the file opened before; an empty path
// logs to stderr only. The master opens it and its children inherit the
// descriptor; on SIGUSR1 each process calls it again (after logrotate moved
// the file away), from its loop and never from a signal handler. On failure
// the previous file stays in use.
bool open_file(const std::string& path, std::string* error);
// Names this process in every line ("master", "worker", "mailer", "cli"),
// with its pid: a forked child calls it before it logs.
void set_role(const char* role);
// Quiet mode for the command line: only warnings and errors reach stderr.
void set_stderr_quiet(bool quiet);

// Text that came from outside (a request's path or method, a recipient's
// domain) as it may appear in a line: control bytes (C0, DEL and the C1
// range), bytes that are not well-formed UTF-8, and the backslash itself
// become \xHH. nginx decodes %0a, %0d and %1b in a path: written raw, they
// would forge a line or drive the terminal of whoever reads the log.
std::string escape(std::string_view untrusted);

void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

}  // namespace cpa::log
