#include "proc/connections.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cpa::proc {

int accept_connection(int listen_fd, bool tcp) {
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0 && tcp) {
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  return fd;
}

Connections::Connections(int listen_fd, bool tcp) : listen_fd_(listen_fd), tcp_(tcp) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return;
  // EPOLLEXCLUSIVE: one idle worker wakes per new connection, not the whole pool.
  struct epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.fd = listen_fd_;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
    close(ep_);
    ep_ = -1;
  }
}

Connections::~Connections() {
  if (ep_ >= 0) close(ep_);
}

int Connections::accept_one() {
  if (!accepting_) return -1;
  return accept_connection(listen_fd_, tcp_);  // -1: nothing queued
}

void Connections::poll(int timeout_ms, const sigset_t* mask) {
  struct epoll_event events[32];
  int n = epoll_pwait(ep_, events, 32, timeout_ms, mask);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == listen_fd_)
      listen_ready_ = true;
    else
      ready_.push_back(events[i].data.fd);
  }
}

int Connections::take_ready() {
  int fd = ready_.front();
  ready_.pop_front();
  return fd;
}

int Connections::wait(const sigset_t* wait_mask, int timeout_ms) {
  if (ready_.empty() && !listen_ready_) poll(timeout_ms, wait_mask);
  // A new connection takes its turn among the kept ones, first in the round
  // that saw it: nginx opens one when all its kept ones are busy, and under
  // a steady load some kept connection is always ready, so one taken only
  // when none is would wait in the backlog for hundreds of milliseconds.
  // Another worker may have taken it.
  if (listen_ready_ || ready_.empty()) {
    listen_ready_ = false;
    int fd = accept_one();
    if (fd >= 0 || ready_.empty()) return fd;
  }
  return take_ready();
}

int Connections::next_ready() {
  if (ready_.empty()) {
    int fd = accept_one();
    if (fd >= 0) return fd;
    if (kept_count_ == 0) return -1;
    poll(0, nullptr);
    if (ready_.empty()) return -1;
  }
  return take_ready();
}

void Connections::keep(int fd) {
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= registered_.size()) registered_.resize(fd + 1, 0);
  // EPOLLONESHOT: reported once, then left alone while its request is
  // served; keep() arms it again for the next one.
  struct epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.fd = fd;
  if (registered_[fd]) {
    if (epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) == 0) return;
  } else if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0) {
    registered_[fd] = 1;
    ++kept_count_;
    return;
  }
  // Not watched, so never served again: close it rather than leave nginx a
  // connection nobody reads.
  forget(fd);
  close(fd);
}

void Connections::forget(int fd) {
  // A closed descriptor leaves the epoll set by itself; its number may come
  // back from accept() as a new connection.
  if (fd < 0 || static_cast<size_t>(fd) >= registered_.size() || !registered_[fd]) return;
  registered_[fd] = 0;
  --kept_count_;
}

void Connections::stop_accepting() {
  if (!accepting_) return;
  accepting_ = false;
  listen_ready_ = false;
  epoll_ctl(ep_, EPOLL_CTL_DEL, listen_fd_, nullptr);
}

void Connections::close_all() {
  for (size_t fd = 0; fd < registered_.size(); ++fd) {
    if (registered_[fd]) close(static_cast<int>(fd));
    registered_[fd] = 0;
  }
  kept_count_ = 0;
  ready_.clear();
  listen_ready_ = false;
}

}  // namespace cpa::proc
