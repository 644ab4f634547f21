#include "api/routes.h"

#include <gtest/gtest.h>

#include <regex.h>

#include <fstream>
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

// POSIX extended regular expressions: what nginx's PCRE does with this
// pattern (anchors, alternation, classes, '?').
class Regex {
 public:
  explicit Regex(const std::string& pattern) {
    ok_ = regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB) == 0;
  }
  ~Regex() {
    if (ok_) regfree(&re_);
  }
  bool ok() const { return ok_; }
  bool matches(const std::string& s) const { return ok_ && regexec(&re_, s.c_str(), 0, nullptr, 0) == 0; }

 private:
  regex_t re_;
  bool ok_ = false;
};

bool regex_match(const std::string& s, const Regex& re) { return re.matches(s); }

TEST(Routes, HashRoutesRegexMatchesExactlyTheHashingRoutes) {
  Regex re(hash_routes_regex());
  ASSERT_TRUE(re.ok()) << hash_routes_regex();
  EXPECT_TRUE(regex_match("POST /api/v1/auth/token/obtain/", re));
  EXPECT_TRUE(regex_match("POST /api/v1/auth/token/obtain", re));
  EXPECT_TRUE(regex_match("DELETE /api/v1/auth/users/me/", re));
  EXPECT_TRUE(regex_match("DELETE /api/v1/auth/users/42/", re));
  EXPECT_TRUE(regex_match("POST /api/v1/auth/verify-pin/", re));
  EXPECT_FALSE(regex_match("GET /api/v1/auth/users/me/", re));
  EXPECT_FALSE(regex_match("POST /api/v1/auth/token/verify/", re));
  EXPECT_FALSE(regex_match("POST /api/v1/auth/token/obtain/x", re));
  EXPECT_FALSE(regex_match("DELETE /api/v1/auth/users/abc/", re));
  for (const Route& r : routes()) {
    std::string path = "/api/v1/auth/" + std::string(r.pattern);
    for (const auto& [param, example] : {std::pair<std::string, std::string>{"<id>", "7"},
                                         {"<id:hex32>", std::string(32, 'a')}}) {
      size_t at = path.find(param);
      if (at != std::string::npos) path.replace(at, param.size(), example);
    }
    EXPECT_EQ(path.find('<'), std::string::npos) << path;
    EXPECT_EQ(regex_match(std::string(r.method) + " " + path, re), r.cost == Cost::kHash)
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
