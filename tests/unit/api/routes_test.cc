#include "api/routes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace cpa::api {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Routes, HashRoutesRegexMatchesExactlyTheHashingRoutes) {
  std::regex re(hash_routes_regex());
  EXPECT_TRUE(std::regex_match("POST /api/v1/auth/token/obtain/", re));
  EXPECT_TRUE(std::regex_match("POST /api/v1/auth/token/obtain", re));
  EXPECT_TRUE(std::regex_match("DELETE /api/v1/auth/users/me/", re));
  EXPECT_TRUE(std::regex_match("DELETE /api/v1/auth/users/42/", re));
  EXPECT_TRUE(std::regex_match("POST /api/v1/auth/verify-pin/", re));
  EXPECT_FALSE(std::regex_match("GET /api/v1/auth/users/me/", re));
  EXPECT_FALSE(std::regex_match("POST /api/v1/auth/token/verify/", re));
  EXPECT_FALSE(std::regex_match("POST /api/v1/auth/token/obtain/x", re));
  EXPECT_FALSE(std::regex_match("DELETE /api/v1/auth/users/abc/", re));
  for (const Route& r : routes()) {
    std::string path = "/api/v1/auth/" + std::string(r.pattern);
    size_t id = path.find("<id>");
    if (id != std::string::npos) path.replace(id, 4, "7");
    EXPECT_EQ(std::regex_match(std::string(r.method) + " " + path, re), r.cost == Cost::kHash)
        << r.method << " " << r.pattern;
  }
}

// The production site file carries its own copy of the map key (it is not
// rendered): it must say what the route table says.
TEST(Routes, ProductionSiteFileRoutesTheHashingRoutesToTheirPool) {
  std::string site = read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth.site.conf");
  std::string expected = "\"~" + hash_routes_regex() + "\" cryptopay_auth_hash_pool;";
  EXPECT_NE(site.find(expected), std::string::npos) << "expected in the site file: " << expected;
}

}  // namespace
}  // namespace cpa::api
