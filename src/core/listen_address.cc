#include "core/listen_address.h"

#include <arpa/inet.h>

#include "core/strings.h"

namespace cpa {

std::string ListenAddress::text() const {
  if (!tcp()) return path;
  return "tcp:" + nginx_server();
}

std::string ListenAddress::nginx_server() const {
  if (!tcp()) return "unix:" + path;
  return (ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* why) {
  constexpr std::string_view kTcp = "tcp:";
  if (!text.starts_with(kTcp)) {
    if (text.empty()) {
      *why = "expected a unix socket path or tcp:HOST:PORT";
      return std::nullopt;
    }
    return unix_listen_address(std::string(text));
  }
  const std::string shape = "expected tcp:IPV4:PORT or tcp:[IPV6]:PORT (a numeric address, a port "
                            "from 1 to 65535), got '" + std::string(text) + "'";
  std::string_view rest = text.substr(kTcp.size());
  std::string host;
  bool v6 = false;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      *why = shape;
      return std::nullopt;
    }
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    v6 = true;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      *why = shape;
      return std::nullopt;
    }
    host = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon);
  }
  unsigned char parsed[16];
  const bool numeric = inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), parsed) == 1;
  const std::optional<int64_t> port =
      rest.starts_with(":") ? parse_decimal(rest.substr(1)) : std::nullopt;
  if (!numeric || !port || *port < 1 || *port > 65535) {
    *why = shape;
    return std::nullopt;
  }
  return tcp_listen_address(host, static_cast<int>(*port));
}

}  // namespace cpa
