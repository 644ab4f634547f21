#include "proc/upgrade.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "state/listener.h"

extern char** environ;

namespace cpa::proc {
namespace {

std::vector<std::string>& saved_command_line() {
  static std::vector<std::string> args;
  return args;
}

std::string& saved_executable() {
  static std::string path;
  return path;
}

// A decimal integer, the whole of `text`, in [min, INT_MAX].
std::optional<int> parse_int(std::string_view text, int min) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  if (text.empty()) return parts;
  for (;;) {
    size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

bool is_role(std::string_view role) {
  return role == "worker" || role == "hasher" || role == "mailer" || role == "nginx";
}

}  // namespace

std::vector<int> Handover::descriptors() const {
  std::vector<int> fds;
  for (int fd : {socket_fd, hash_socket_fd, wake_read_fd, wake_write_fd, metrics_fd, exe_fd,
                 report_fd})
    if (fd >= 0) fds.push_back(fd);
  return fds;
}

std::string encode_descriptors(const Handover& h) {
  std::string out = "socket=" + std::to_string(h.socket_fd) +
                    ",hash_socket=" + std::to_string(h.hash_socket_fd) +
                    ",wake=" + std::to_string(h.wake_read_fd) + ":" + std::to_string(h.wake_write_fd);
  if (h.metrics_fd >= 0) out += ",metrics=" + std::to_string(h.metrics_fd);
  if (h.exe_fd >= 0) out += ",exe=" + std::to_string(h.exe_fd);
  if (h.report_fd >= 0) out += ",report=" + std::to_string(h.report_fd);
  return out;
}

std::string encode_children(const Handover& h) {
  std::string out;
  for (const Handover::Process& p : h.children)
    out.append(out.empty() ? "" : ",").append(p.role).append("=").append(std::to_string(p.pid));
  return out;
}

bool parse_handover(std::string_view descriptors, std::string_view children, Handover* out,
                    std::string* error) {
  Handover h;
  for (std::string_view item : split(descriptors, ',')) {
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    // 0, 1 and 2 are stdin, stdout and stderr: never a handed-over descriptor.
    auto fd = [&](int* slot) {
      std::optional<int> n = parse_int(value, 3);
      if (n) *slot = *n;
      return n.has_value();
    };
    bool ok = false;
    if (name == "socket") {
      ok = fd(&h.socket_fd);
    } else if (name == "hash_socket") {
      ok = fd(&h.hash_socket_fd);
    } else if (name == "wake") {
      std::vector<std::string_view> ends = split(value, ':');
      std::optional<int> r = ends.size() == 2 ? parse_int(ends[0], 3) : std::nullopt;
      std::optional<int> w = ends.size() == 2 ? parse_int(ends[1], 3) : std::nullopt;
      ok = r && w;
      if (ok) h.wake_read_fd = *r, h.wake_write_fd = *w;
    } else if (name == "metrics") {
      ok = fd(&h.metrics_fd);
    } else if (name == "exe") {
      ok = fd(&h.exe_fd);
    } else if (name == "report") {
      ok = fd(&h.report_fd);
    }
    if (!ok) {
      *error = std::string(kInheritVariable) + ": cannot read \"" + std::string(item) + "\"";
      return false;
    }
  }
  if (h.socket_fd < 0 || h.hash_socket_fd < 0 || h.wake_read_fd < 0) {
    *error = std::string(kInheritVariable) + ": socket, hash_socket and wake are required";
    return false;
  }
  for (std::string_view item : split(children, ',')) {
    size_t eq = item.find('=');
    std::string_view role = item.substr(0, eq);
    std::optional<int> pid =
        eq == std::string_view::npos ? std::nullopt : parse_int(item.substr(eq + 1), 1);
    if (!is_role(role) || !pid) {
      *error = std::string(kChildrenVariable) + ": cannot read \"" + std::string(item) + "\"";
      return false;
    }
    h.children.push_back({std::string(role), *pid});
  }
  *out = std::move(h);
  return true;
}

std::optional<Handover> take_handover(std::string* error) {
  const char* descriptors = getenv(kInheritVariable);
  const char* children = getenv(kChildrenVariable);
  std::string d = descriptors ? descriptors : "";
  std::string c = children ? children : "";
  unsetenv(kInheritVariable);
  unsetenv(kChildrenVariable);
  if (descriptors == nullptr) {
    if (children != nullptr) *error = std::string(kChildrenVariable) + " without " + kInheritVariable;
    return std::nullopt;
  }
  Handover h;
  if (!parse_handover(d, c, &h, error)) return std::nullopt;
  return h;
}

void remember_command_line(int argc, char** argv) {
  saved_command_line().assign(argv, argv + argc);
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) {
    std::string exe(path, static_cast<size_t>(n));
    // Started from a file replaced since: the path is still where upgrades come from.
    const std::string deleted = " (deleted)";
    if (exe.ends_with(deleted)) exe.resize(exe.size() - deleted.size());
    saved_executable() = exe;
  }
}

const std::string& executable_path() { return saved_executable(); }

std::vector<std::string> handover_environment(const Handover& handover) {
  std::vector<std::string> env;
  const std::string inherit = std::string(kInheritVariable) + "=";
  const std::string children = std::string(kChildrenVariable) + "=";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with(inherit) || entry.starts_with(children)) continue;
    env.emplace_back(entry);
  }
  env.push_back(inherit + encode_descriptors(handover));
  if (!handover.children.empty()) env.push_back(children + encode_children(handover));
  return env;
}

void exec_binary(int exe_fd, const std::vector<std::string>& env) {
  std::vector<char*> argv;
  for (const std::string& a : saved_command_line()) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  fexecve(exe_fd, argv.data(), envp.data());
}

bool is_listening_socket_on(int fd, const ListenAddress& address, std::string* error) {
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  const int family = address.tcp() ? (address.ipv6() ? AF_INET6 : AF_INET) : AF_UNIX;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0 ||
      bound.ss_family != family) {
    *error = "descriptor " + std::to_string(fd) + " is not " +
             (!address.tcp() ? "a unix socket"
              : address.ipv6() ? "an IPv6 TCP socket" : "an IPv4 TCP socket");
    return false;
  }
  int type = 0, listening = 0;
  socklen_t int_len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &int_len) != 0 || type != SOCK_STREAM ||
      getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &int_len) != 0 || !listening) {
    *error = "descriptor " + std::to_string(fd) + " is not a listening stream socket";
    return false;
  }
  // The very address the configuration names, compared as the kernel holds
  // both (10.0.0.1 and 10.0.0.01 are one; a port is part of it).
  sockaddr_storage configured;
  const socklen_t configured_len = state::sockaddr_of(address, &configured);
  bool same = false;
  std::string bound_text;
  if (family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(bound);
    bound_text.assign(un.sun_path, strnlen(un.sun_path, sizeof un.sun_path));
    same = bound_text == address.path;
  } else {
    char host[INET6_ADDRSTRLEN] = "";
    const void* ip;
    int port;
    if (family == AF_INET6) {
      const auto& in6 = reinterpret_cast<const sockaddr_in6&>(bound);
      const auto& want = reinterpret_cast<const sockaddr_in6&>(configured);
      same = configured_len != 0 && in6.sin6_port == want.sin6_port &&
             memcmp(&in6.sin6_addr, &want.sin6_addr, sizeof in6.sin6_addr) == 0;
      ip = &in6.sin6_addr;
      port = ntohs(in6.sin6_port);
    } else {
      const auto& in = reinterpret_cast<const sockaddr_in&>(bound);
      const auto& want = reinterpret_cast<const sockaddr_in&>(configured);
      same = configured_len != 0 && in.sin_port == want.sin_port &&
             in.sin_addr.s_addr == want.sin_addr.s_addr;
      ip = &in.sin_addr;
      port = ntohs(in.sin_port);
    }
    inet_ntop(family, ip, host, sizeof host);
    bound_text = tcp_listen_address(host, port).text();
  }
  if (!same) {
    *error = "the socket handed over listens on " + bound_text + ", the configuration says " +
             address.text() + ": moving a socket takes a restart";
    return false;
  }
  return true;
}

bool set_close_on_exec(int fd, bool on) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return false;
  return fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) == 0;
}

}  // namespace cpa::proc
