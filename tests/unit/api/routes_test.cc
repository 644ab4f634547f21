#include "api/routes.h"

#include <gtest/gtest.h>

#include <regex.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "http/router.h"

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

// A request path for each route: its parameters filled in.
std::string example_path(const Route& r) {
  std::string path = "/api/v1/auth/" + std::string(r.pattern);
  for (const auto& [param, example] : {std::pair<std::string, std::string>{"<id>", "7"},
                                       {"<id:hex32>", std::string(32, 'a')}}) {
    const size_t at = path.find(param);
    if (at != std::string::npos) path.replace(at, param.size(), example);
  }
  return path;
}

// The map's entries, (regex, methods), in its order.
std::vector<std::pair<std::string, std::string>> map_entries(const std::string& map) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(map);
  std::string line;
  while (std::getline(in, line)) {
    const size_t open = line.find("\"~");
    if (open == std::string::npos) continue;
    const size_t close = line.find("\" \"", open);
    out.emplace_back(line.substr(open + 2, close - open - 2),
                     line.substr(close + 3, line.rfind('"') - close - 3));
  }
  return out;
}

// What the map gives a path (nginx takes the first regex that matches), or "".
std::string methods_for(const std::vector<std::pair<std::string, std::string>>& entries,
                        const std::string& path) {
  for (const auto& [pattern, methods] : entries) {
    Regex re(pattern);
    EXPECT_TRUE(re.ok()) << pattern;
    if (re.matches(path)) return methods;
  }
  return "";
}

// A preflight's Access-Control-Allow-Methods is what a 405's Allow says for
// the path, for every route, with or without the trailing slash; a path that
// is no route gets none (nginx then lets the pool answer its 404).
TEST(Routes, CorsMethodsMapGivesEachPathItsRoutesMethods) {
  const std::string map = cors_methods_map();
  ASSERT_EQ(map.rfind("map $uri $cpa_cors_route_methods {\n", 0), 0u) << map;
  const auto entries = map_entries(map);
  const http::Router<Route> router(routes().data(), routes().data() + routes().size());
  for (const Route& r : routes()) {
    const std::string path = example_path(r);
    const std::string allow = router.find("OPTIONS", path).allow();
    EXPECT_EQ(methods_for(entries, path), allow) << path;
    EXPECT_EQ(methods_for(entries, path.substr(0, path.size() - 1)), allow) << path;
  }
  EXPECT_EQ(methods_for(entries, "/api/v1/auth/users/me/"), "GET, PUT, PATCH, DELETE, HEAD");
  EXPECT_EQ(methods_for(entries, "/api/v1/auth/users/"), "GET, POST, HEAD");
  EXPECT_EQ(methods_for(entries, "/api/v1/auth/token/obtain/"), "POST");
  EXPECT_EQ(methods_for(entries, "/api/v1/auth/sessions/" + std::string(32, 'f') + "/"), "DELETE");
  for (const char* path : {"/api/v1/auth/nope/", "/api/v1/auth/", "/api/v1/auth/users/abc/",
                           "/api/v1/auth/users/1234567890123456789/", "/api/v1/auth/users/me/x/",
                           "/api/v1/auth/sessions/ABC/", "/", "/api/v1/auth/health/extra"}) {
    EXPECT_EQ(methods_for(entries, path), "") << path;
    EXPECT_FALSE(router.find("GET", path).path_found()) << path;
  }
}

// The production snippet carries its own copy of the map (it is not
// rendered): it must say what the route table says.
TEST(Routes, ProductionCorsSnippetListsTheTablesMethods) {
  const std::string snippet =
      read_file(std::string(CPA_SOURCE_DIR) + "/nginx/cryptopay-auth-cors-methods.conf");
  EXPECT_NE(snippet.find(cors_methods_map()), std::string::npos)
      << "nginx/cryptopay-auth-cors-methods.conf should hold, as is:\n" << cors_methods_map();
}

}  // namespace
}  // namespace cpa::api
