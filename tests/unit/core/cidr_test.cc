#include "core/cidr.h"

#include <gtest/gtest.h>

#include <string>

namespace cpa {
namespace {

Cidr cidr(const std::string& text) {
  std::string why;
  std::optional<Cidr> c = parse_cidr(text, &why);
  EXPECT_TRUE(c.has_value()) << text << ": " << why;
  return c.value_or(Cidr{});
}

std::string refusal(const std::string& text) {
  std::string why;
  EXPECT_FALSE(parse_cidr(text, &why).has_value()) << "accepted: " << text;
  return why;
}

TEST(Cidr, Ipv4HostAndNetworks) {
  const Cidr host = cidr("127.0.0.1/32");
  EXPECT_TRUE(cidr_contains(host, "127.0.0.1"));
  EXPECT_FALSE(cidr_contains(host, "127.0.0.2"));
  EXPECT_FALSE(cidr_contains(host, "::1"));

  const Cidr net = cidr("10.1.0.0/16");
  EXPECT_TRUE(cidr_contains(net, "10.1.0.0"));
  EXPECT_TRUE(cidr_contains(net, "10.1.255.255"));
  EXPECT_FALSE(cidr_contains(net, "10.2.0.0"));
  EXPECT_FALSE(cidr_contains(net, "10.0.255.255"));

  // A prefix that is not a whole number of bytes.
  const Cidr odd = cidr("192.168.4.0/22");
  EXPECT_TRUE(cidr_contains(odd, "192.168.7.200"));
  EXPECT_FALSE(cidr_contains(odd, "192.168.8.1"));
  EXPECT_FALSE(cidr_contains(odd, "192.168.3.255"));
}

TEST(Cidr, Ipv6HostAndNetworks) {
  const Cidr host = cidr("::1/128");
  EXPECT_TRUE(cidr_contains(host, "::1"));
  EXPECT_TRUE(cidr_contains(host, "0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(cidr_contains(host, "::2"));
  EXPECT_FALSE(cidr_contains(host, "127.0.0.1"));

  const Cidr net = cidr("fd00:ab::/33");
  EXPECT_TRUE(cidr_contains(net, "fd00:ab::1"));
  EXPECT_TRUE(cidr_contains(net, "fd00:ab:7fff::1"));
  EXPECT_FALSE(cidr_contains(net, "fd00:ab:8000::1"));
  EXPECT_FALSE(cidr_contains(net, "fd00:ac::1"));
}

TEST(Cidr, ZeroPrefixMatchesEveryAddressOfItsFamily) {
  const Cidr v4 = cidr("0.0.0.0/0");
  EXPECT_TRUE(cidr_contains(v4, "203.0.113.9"));
  EXPECT_TRUE(cidr_contains(v4, "255.255.255.255"));
  EXPECT_FALSE(cidr_contains(v4, "2001:db8::1"));
  const Cidr v6 = cidr("::/0");
  EXPECT_TRUE(cidr_contains(v6, "2001:db8::1"));
  EXPECT_FALSE(cidr_contains(v6, "203.0.113.9"));
}

TEST(Cidr, ABareAddressIsOneHost) {
  EXPECT_EQ(cidr("192.0.2.1").prefix, 32);
  EXPECT_EQ(cidr("2001:db8::1").prefix, 128);
  EXPECT_TRUE(cidr_contains(cidr("192.0.2.1"), "192.0.2.1"));
  EXPECT_FALSE(cidr_contains(cidr("192.0.2.1"), "192.0.2.2"));
}

TEST(Cidr, AnIpv4MappedClientIsMatchedAsIpv4) {
  EXPECT_TRUE(cidr_contains(cidr("127.0.0.1/32"), "::ffff:127.0.0.1"));
  EXPECT_FALSE(cidr_contains(cidr("127.0.0.1/32"), "::ffff:127.0.0.2"));
}

TEST(Cidr, WhatIsNotAnAddressIsInNoRange) {
  const Cidr all = cidr("0.0.0.0/0");
  for (const char* address : {"", "localhost", "127.0.0.1/32", "127.0.0.1 ", "1.2.3", "::g"})
    EXPECT_FALSE(cidr_contains(all, address)) << address;
}

TEST(Cidr, TextIsWhatNginxTakes) {
  EXPECT_EQ(cidr("127.0.0.1/32").text(), "127.0.0.1/32");
  EXPECT_EQ(cidr("0:0::0/0").text(), "::/0");
  EXPECT_EQ(cidr("FD00::/8").text(), "fd00::/8");
}

TEST(Cidr, BadInputsAreRefusedWithAReason) {
  EXPECT_NE(refusal("").find("not an IPv4 or IPv6 address"), std::string::npos);
  EXPECT_NE(refusal("localhost").find("'localhost' is not"), std::string::npos);
  EXPECT_NE(refusal("256.0.0.1/32").find("not an IPv4"), std::string::npos);
  EXPECT_NE(refusal("127.0.0.1/33").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("::1/129").find("0 to 128"), std::string::npos);
  EXPECT_NE(refusal("127.0.0.1/").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("127.0.0.1/-1").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("127.0.0.1/8x").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("10.0.0.0/8/8").find("0 to 32"), std::string::npos);
  EXPECT_NE(refusal("/24").find("not an IPv4"), std::string::npos);
  // Bits past the prefix: a typo, most likely; the error says the range meant.
  EXPECT_NE(refusal("10.1.2.3/8").find("did you mean 10.0.0.0/8?"), std::string::npos);
  EXPECT_NE(refusal("fd00::1/8").find("did you mean fd00::/8?"), std::string::npos);
}

TEST(Cidr, AnyContainsLooksAtEveryRange) {
  const std::vector<Cidr> ranges = {cidr("127.0.0.1/32"), cidr("::1/128"), cidr("10.0.0.0/8")};
  EXPECT_TRUE(any_contains(ranges, "127.0.0.1"));
  EXPECT_TRUE(any_contains(ranges, "::1"));
  EXPECT_TRUE(any_contains(ranges, "10.20.30.40"));
  EXPECT_FALSE(any_contains(ranges, "127.0.0.2"));
  EXPECT_FALSE(any_contains({}, "127.0.0.1"));
}

}  // namespace
}  // namespace cpa
