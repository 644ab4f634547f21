#include "state/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cpa::state {

socklen_t sockaddr_of(const ListenAddress& address, sockaddr_storage* out) {
  memset(out, 0, sizeof *out);
  if (!address.tcp()) {
    auto* un = reinterpret_cast<sockaddr_un*>(out);
    if (address.path.size() >= sizeof un->sun_path) return 0;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, address.path.c_str(), address.path.size());
    return sizeof *un;
  }
  // The address was checked by parse_listen_address: inet_pton succeeds.
  if (address.ipv6()) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(address.port));
    inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr);
    return sizeof *in6;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(out);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(address.port));
  inet_pton(AF_INET, address.host.c_str(), &in->sin_addr);
  return sizeof *in;
}

bool someone_listens(const ListenAddress& address) {
  sockaddr_storage addr;
  const socklen_t len = sockaddr_of(address, &addr);
  if (len == 0) return false;
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool listening = connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0;
  if (!listening && address.tcp() && errno == EINPROGRESS) {
    // TCP connects asynchronously: refused, or accepted into the backlog.
    struct pollfd p = {fd, POLLOUT, 0};
    int error = 0;
    socklen_t error_len = sizeof error;
    listening = poll(&p, 1, 1000) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0;
  } else if (!listening && !address.tcp()) {
    listening = errno == EAGAIN;  // a unix socket whose backlog is full
  }
  close(fd);
  return listening;
}

int bind_tcp(const ListenAddress& address, std::string* why) {
  sockaddr_storage addr;
  const socklen_t len = sockaddr_of(address, &addr);
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int on = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      (address.ipv6() && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
      bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    *why = strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

}  // namespace cpa::state
