// Where a pool listens for nginx (AUTH_SOCKET, AUTH_HASH_SOCKET): a unix
// socket path, for nginx on the same machine (the default), or
// tcp:HOST:PORT, for an nginx on another host in front of several nodes
// (README "Several nodes behind one nginx"). HOST is a numeric IPv4 address
// or an IPv6 one in brackets: a name would be resolved once, at start, to
// whatever DNS said then, so it is refused rather than half-supported.
// FastCGI has no authentication: a TCP port belongs on a private network.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cpa {

struct ListenAddress {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;  // kUnix
  std::string host;  // kTcp: "10.0.0.11", "::1" (no brackets)
  int port = 0;      // kTcp

  bool tcp() const { return kind == Kind::kTcp; }
  bool ipv6() const { return tcp() && host.find(':') != std::string::npos; }
  // As AUTH_SOCKET takes it: the path, or tcp:HOST:PORT (tcp:[v6]:PORT).
  std::string text() const;
  // As nginx's `server` takes it in an upstream: unix:PATH, or HOST:PORT
  // ([v6]:PORT).
  std::string nginx_server() const;

  bool operator==(const ListenAddress&) const = default;
};

// A unix path (anything not starting with "tcp:"; not empty), or
// tcp:IPV4:PORT / tcp:[IPV6]:PORT with a port from 1 to 65535. nullopt, and
// *why says what was expected, on anything else.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* why);

inline ListenAddress unix_listen_address(std::string path) {
  ListenAddress address;
  address.path = std::move(path);
  return address;
}
// `host` numeric, as parse_listen_address() leaves it (IPv6 without brackets).
inline ListenAddress tcp_listen_address(std::string host, int port) {
  ListenAddress address;
  address.kind = ListenAddress::Kind::kTcp;
  address.host = std::move(host);
  address.port = port;
  return address;
}

}  // namespace cpa
