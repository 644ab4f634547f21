#include "proc/nginx.h"

#include <gtest/gtest.h>

#include <string>

namespace cpa::proc {
namespace {

TEST(NginxMetricsRules, AllowEachRangeThenDenyAll) {
  Config config;
  EXPECT_EQ(metrics_access_rules(config), "allow 127.0.0.1/32;\n            deny all;");
  std::string why;
  config.metrics_allow = {*parse_cidr("10.0.0.0/8", &why), *parse_cidr("::1", &why)};
  EXPECT_EQ(metrics_access_rules(config),
            "allow 10.0.0.0/8;\n            allow ::1/128;\n            deny all;");
  config.metrics_allow = {};
  EXPECT_EQ(metrics_access_rules(config), "deny all;");
}

}  // namespace
}  // namespace cpa::proc
