#include "core/cidr.h"

#include <arpa/inet.h>

#include <cstring>

#include "core/strings.h"

namespace cpa {
namespace {

struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

enum class Mapped { kAsIPv4, kAsIs };

std::optional<Address> parse_address(std::string_view text, Mapped mapped) {
  // inet_pton wants a terminated string; an address is at most 45 characters.
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Address a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  a.v6 = true;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (mapped == Mapped::kAsIPv4 && memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
    a.v6 = false;
    memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    memset(a.bytes.data() + 4, 0, 12);
  }
  return a;
}

// Whether the first `prefix` bits of a and b are equal.
bool same_prefix(const uint8_t* a, const uint8_t* b, int prefix) {
  const int whole = prefix / 8;
  if (memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::string Cidr::text() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, network.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* why) {
  const size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  // A range is what it says: ::ffff:0:0/96 is an IPv6 range.
  std::optional<Address> address = parse_address(address_text, Mapped::kAsIs);
  if (!address) {
    *why = "'" + std::string(text) + "' is not an IPv4 or IPv6 address or CIDR range";
    return std::nullopt;
  }
  Cidr c;
  c.v6 = address->v6;
  const int max = c.v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    std::optional<int64_t> n = bits.size() <= 3 ? parse_decimal(bits) : std::nullopt;
    if (!n || *n < 0 || *n > max) {
      *why = "'" + std::string(text) + "': the prefix length must be 0 to " + std::to_string(max);
      return std::nullopt;
    }
    c.prefix = static_cast<int>(*n);
  }
  c.network = address->bytes;
  Cidr masked = c;
  for (int bit = c.prefix; bit < max; ++bit)
    masked.network[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (masked.network != c.network) {
    *why = "'" + std::string(text) + "' has bits set after its prefix (did you mean " +
           masked.text() + "?)";
    return std::nullopt;
  }
  return c;
}

bool cidr_contains(const Cidr& range, std::string_view address) {
  // A client address is what it is: ::ffff:127.0.0.1 is 127.0.0.1.
  std::optional<Address> a = parse_address(address, Mapped::kAsIPv4);
  if (!a || a->v6 != range.v6) return false;
  return same_prefix(a->bytes.data(), range.network.data(), range.prefix);
}

bool any_contains(const std::vector<Cidr>& ranges, std::string_view address) {
  for (const Cidr& range : ranges)
    if (cidr_contains(range, address)) return true;
  return false;
}

}  // namespace cpa
