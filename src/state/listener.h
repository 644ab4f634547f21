// A pool's listening address (AUTH_SOCKET, AUTH_HASH_SOCKET: a unix path or
// tcp:HOST:PORT, core/listen_address.h) as the kernel sees it: its sockaddr,
// whether a service listens on it (the master asks before taking a unix
// path over; `check` reports it), and a TCP socket bound to it.
#pragma once

#include <sys/socket.h>

#include <string>

#include "core/listen_address.h"

namespace cpa::state {

// `address` as a sockaddr in *out; its length, or 0 for a unix path too long
// to be a socket's.
socklen_t sockaddr_of(const ListenAddress& address, sockaddr_storage* out);

// Whether a process accepts connections on `address` (a full backlog
// counts). A TCP address is given at most a second to answer.
bool someone_listens(const ListenAddress& address);

// A TCP stream socket bound to `address` (SO_REUSEADDR: a restart does not
// wait for the last connections' TIME_WAIT; IPv6 only for an IPv6
// address), close-on-exec and non-blocking, not yet listening; -1, and
// *why says what the kernel said, when it cannot be bound.
int bind_tcp(const ListenAddress& address, std::string* why);

}  // namespace cpa::state
