// Address ranges (CIDR): "127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8",
// "0.0.0.0/0". What AUTH_METRICS_ALLOW lists, and what a client address
// (nginx's REMOTE_ADDR) is matched against.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpa {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> network{};  // the first 4 bytes for IPv4
  int prefix = 0;                     // 0..32 (IPv4), 0..128 (IPv6)

  // "a.b.c.d/n" or "x:y::/n", as nginx's allow directive takes it.
  std::string text() const;
};

// Parses "ADDRESS/PREFIX" (a bare address is one host: /32 or /128). Host
// bits set under the prefix ("10.0.0.1/8") are refused as a likely typo.
// nullopt, and *why says what is wrong, on anything else.
std::optional<Cidr> parse_cidr(std::string_view text, std::string* why);

// Whether `address` (a literal IPv4 or IPv6 address) is in `range`. An
// IPv4-mapped IPv6 address (::ffff:127.0.0.1) is matched as the IPv4 one.
// An address that does not parse is in no range.
bool cidr_contains(const Cidr& range, std::string_view address);
bool any_contains(const std::vector<Cidr>& ranges, std::string_view address);

}  // namespace cpa
