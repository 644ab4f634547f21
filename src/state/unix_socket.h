// A look at a unix socket from outside: whether anything listens on it. The
// master asks before taking a socket path over; `check` reports it.
#pragma once

#include <string>

namespace cpa::state {

// Whether a process accepts connections on the unix socket at `path` (a full
// backlog counts). False for a path too long to be a socket's.
bool someone_listens(const std::string& path);

}  // namespace cpa::state
