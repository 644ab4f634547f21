// Connections: where a worker's next request comes from. The shared
// listening socket, and the FastCGI connections nginx keeps open to this
// worker (fastcgi_keep_conn + an upstream keepalive): each carries one
// request at a time, and is watched in the worker's epoll set between its
// requests, so an idle one never holds the worker.
//
// One per worker process; not thread-safe. The descriptors it returns are
// the caller's to serve; after serving one the caller says whether it stays
// open (keep) or was closed (forget).
#pragma once

#include <signal.h>

#include <deque>
#include <vector>

namespace cpa::proc {

// The next connection queued on `listen_fd`, or -1 when none is (the socket
// is non-blocking). Over TCP, Nagle's algorithm would hold an answer's last
// small record back until nginx acknowledges the one before: TCP_NODELAY
// sends each at once.
int accept_connection(int listen_fd, bool tcp);

class Connections {
 public:
  // `listen_fd` is non-blocking and shared with the other workers; `tcp`: it
  // is a TCP socket (a node behind another host's nginx).
  Connections(int listen_fd, bool tcp);
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  bool ok() const { return ep_ >= 0; }
  bool tcp() const { return tcp_; }

  // Waits up to `timeout_ms` (-1: no limit; signals in `wait_mask` interrupt
  // it) until a connection has a request: a kept one with data, or a new
  // one. -1 when interrupted, timed out, or another worker took the new one.
  int wait(const sigset_t* wait_mask, int timeout_ms);
  // Without blocking: a new connection already queued, else a kept one whose
  // next request has arrived (the oldest), else -1. What a group commit
  // gathers.
  int next_ready();

  // After its request is answered: `fd` stays open for nginx's next request.
  void keep(int fd);
  // `fd` was closed (by libfcgi, after a request or a failed read).
  void forget(int fd);
  // Kept connections, idle or not.
  int kept() const { return kept_count_; }

  // Stop taking new connections (the drain on SIGTERM): wait() and
  // next_ready() return only kept connections from here on.
  void stop_accepting();
  // Closes every kept connection (the drain's deadline).
  void close_all();

 private:
  int accept_one();
  // Moves the kept connections epoll reports ready into ready_;
  // `timeout_ms` and `mask` as epoll_pwait's.
  void poll(int timeout_ms, const sigset_t* mask);
  // The oldest ready kept connection: served in the order they became ready.
  int take_ready();

  int listen_fd_;
  bool tcp_;
  int ep_ = -1;
  bool accepting_ = true;
  std::deque<int> ready_;         // kept connections with a request, not yet served
  bool listen_ready_ = false;     // epoll saw a new connection queued
  std::vector<char> registered_;  // by descriptor: in the epoll set (EPOLLONESHOT)
  int kept_count_ = 0;
};

}  // namespace cpa::proc
