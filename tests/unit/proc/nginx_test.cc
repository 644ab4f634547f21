#include "proc/nginx.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "api/routes.h"
#include "core/config.h"

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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// nginx's own answers say what the pool would: the bodies come from
// render_error, and the production site file (not rendered) holds the same.
TEST(NginxErrorBodies, TheSiteFileAnswersWhatRenderErrorWrites) {
  const std::string site = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.site.conf");
  const std::string dev = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.local.conf.in");
  const auto bodies = nginx_error_bodies();
  EXPECT_EQ(bodies.size(), 7u);
  for (const auto& [name, body] : bodies) {
    const std::string status = name.substr(name.size() - 3);
    EXPECT_EQ(body.front(), '{') << name;
    EXPECT_EQ(body.find('\''), std::string::npos) << name << ": nginx quotes it with '";
    const std::string line = "return " + status + " '" + body + "';";
    EXPECT_NE(site.find(line), std::string::npos) << "expected in the site file: " << line;
    EXPECT_NE(dev.find("return " + status + " '{{" + name + "}}';"), std::string::npos) << name;
  }
  // No hand-written body is left in the template.
  EXPECT_EQ(dev.find("'{\"detail\""), std::string::npos);
}

// A request's id starts nginx's access log line in both configurations, the
// id the pool receives as REQUEST_ID and writes in its own line.
TEST(NginxAccessLog, BothFilesLogTheRequestIdTheirPoolIsGiven) {
  const std::string site = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.site.conf");
  const std::string dev = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.local.conf.in");
  const std::string fastcgi = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth-fastcgi.conf");
  const std::string format = access_log_format();
  EXPECT_EQ(format.rfind("log_format cryptopay_auth '$time_iso8601 rid=$cpa_request_id ", 0), 0u)
      << format;
  EXPECT_NE(site.find("\n" + format + "\n"), std::string::npos) << "expected in the site file: " << format;
  EXPECT_NE(dev.find("{{ACCESS_LOG_FORMAT}}"), std::string::npos);
  EXPECT_EQ(dev.find("log_format "), std::string::npos) << "a hand-written format in the template";
  // Both servers of the site and run's log with it.
  size_t uses = 0;
  for (size_t at = 0; (at = site.find("cryptopay-auth.access.log cryptopay_auth;", at)) !=
                      std::string::npos;
       ++at)
    ++uses;
  EXPECT_EQ(uses, 2u);
  EXPECT_NE(dev.find("nginx-access.log cryptopay_auth;"), std::string::npos);
  // The id logged is the one the pool is given.
  EXPECT_NE(fastcgi.find("fastcgi_param REQUEST_ID      $cpa_request_id;"), std::string::npos);
}

// The paths held to no per-address limit are the route table's, in both files.
TEST(NginxUnthrottledRoutes, BothFilesTakeThemFromTheRouteTable) {
  const std::string site = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.site.conf");
  const std::string dev = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.local.conf.in");
  const std::string line = "location ~ \"" + api::unthrottled_routes_regex() + "\" {";
  EXPECT_NE(site.find(line), std::string::npos) << "expected in the site file: " << line;
  EXPECT_NE(dev.find("location ~ \"{{UNTHROTTLED_ROUTES}}\" {"), std::string::npos);
  // The alternatives between "^/api/v1/auth/(" and ")/?$".
  std::string regex = api::unthrottled_routes_regex();
  const std::string head = "^/api/v1/auth/(", tail = ")/?$";
  ASSERT_EQ(regex.rfind(head, 0), 0u) << regex;
  ASSERT_TRUE(regex.ends_with(tail)) << regex;
  std::set<std::string> paths;
  std::stringstream alternatives(regex.substr(head.size(), regex.size() - head.size() - tail.size()));
  for (std::string path; std::getline(alternatives, path, '|');) paths.insert(path);
  EXPECT_EQ(paths, (std::set<std::string>{
                       "users/me", "users/set_password", "users/[0-9]{1,18}", "set-pin",
                       "verify-pin", "reset-pin-request", "reset-pin-verify",
                       "reset-email-request", "reset-email-verify", "sessions",
                       "sessions/[0-9a-f]{32}", "health"}));
  // Not users/ (its POST is public), the token routes, schema/, docs/, metrics/.
}

}  // namespace
}  // namespace cpa::proc
