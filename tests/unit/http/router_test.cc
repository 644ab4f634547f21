#include "http/router.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace cpa::http {
namespace {

// --- api_relative_path

TEST(ApiRelativePath, StripsThePrefixAndOneTrailingSlash) {
  std::string_view rel;
  ASSERT_TRUE(api_relative_path("/api/v1/auth/users/", &rel));
  EXPECT_EQ(rel, "users");
  ASSERT_TRUE(api_relative_path("/api/v1/auth/users", &rel));
  EXPECT_EQ(rel, "users");
  ASSERT_TRUE(api_relative_path("/api/v1/auth/token/obtain/", &rel));
  EXPECT_EQ(rel, "token/obtain");
  ASSERT_TRUE(api_relative_path("/api/v1/auth/users/42", &rel));
  EXPECT_EQ(rel, "users/42");
  ASSERT_TRUE(api_relative_path("/api/v1/auth/users//", &rel));
  EXPECT_EQ(rel, "users/");
}

TEST(ApiRelativePath, PathsOutsideTheApi) {
  std::string_view rel = "untouched";
  for (const char* path : {"", "/", "/api/v1/auth", "/api/v1/auth/", "/api/v1/auth//", "/api/v2/auth/users/",
                           "/api/v1/authx/users", "/API/v1/auth/users/", "api/v1/auth/users/",
                           "/other/api/v1/auth/users/"}) {
    EXPECT_FALSE(api_relative_path(path, &rel)) << path;
  }
  EXPECT_EQ(rel, "untouched");
}

// --- match_pattern

TEST(MatchPattern, Literals) {
  PathArgs args;
  EXPECT_TRUE(match_pattern("users/", "users", &args));
  EXPECT_TRUE(match_pattern("users", "users", &args));
  EXPECT_TRUE(match_pattern("token/obtain/", "token/obtain", &args));
  EXPECT_TRUE(args.ids.empty());
  EXPECT_FALSE(match_pattern("users/", "user", &args));
  EXPECT_FALSE(match_pattern("users/", "usersx", &args));
  EXPECT_FALSE(match_pattern("users/", "Users", &args));
  EXPECT_FALSE(match_pattern("token/obtain/", "token", &args));
  EXPECT_FALSE(match_pattern("token/", "token/obtain", &args));
}

TEST(MatchPattern, ExtraOrMissingSegmentsDoNotMatch) {
  PathArgs args;
  EXPECT_FALSE(match_pattern("users/me/", "users/me/extra", &args));
  EXPECT_FALSE(match_pattern("users/<id>/", "users/1/extra", &args));
  EXPECT_FALSE(match_pattern("users/<id>/", "users", &args));
  EXPECT_FALSE(match_pattern("users/<id>/", "users/", &args));
  EXPECT_FALSE(match_pattern("users/me/", "users//me", &args));
}

TEST(MatchPattern, IdSegmentsAreDigitsOnly) {
  PathArgs args;
  ASSERT_TRUE(match_pattern("users/<id>/", "users/123", &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{123}));

  args = {};
  ASSERT_TRUE(match_pattern("users/<id>/", "users/0", &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{0}));

  args = {};
  ASSERT_TRUE(match_pattern("users/<id>/", "users/007", &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{7}));

  for (const char* bad : {"users/me", "users/-1", "users/+1", "users/1a", "users/1.0", "users/ 1",
                          "users/0x10", "users/%31"}) {
    PathArgs scratch;
    EXPECT_FALSE(match_pattern("users/<id>/", bad, &scratch)) << bad;
  }
}

TEST(MatchPattern, IdsOfAtMost18Digits) {
  PathArgs args;
  ASSERT_TRUE(match_pattern("users/<id>/", "users/" + std::string(18, '9'), &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{999999999999999999LL}));
  args = {};
  EXPECT_FALSE(match_pattern("users/<id>/", "users/" + std::string(19, '1'), &args));
  EXPECT_FALSE(match_pattern("users/<id>/", "users/99999999999999999999999999", &args));
}

TEST(MatchPattern, SeveralIds) {
  PathArgs args;
  ASSERT_TRUE(match_pattern("a/<x>/b/<y>/", "a/1/b/22", &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{1, 22}));
}

TEST(MatchPattern, Hex32SegmentsAreExactly32LowercaseHexDigits) {
  const std::string id = "0123456789abcdef0123456789abcdef";
  PathArgs args;
  ASSERT_TRUE(match_pattern("sessions/<id:hex32>/", "sessions/" + id, &args));
  EXPECT_EQ(args.hex_ids, (std::vector<std::string>{id}));
  EXPECT_TRUE(args.ids.empty());

  const std::vector<std::string> bad_paths = {
      "sessions/" + std::string(31, 'a'), "sessions/" + std::string(33, 'a'),
      "sessions/0123456789ABCDEF0123456789abcdef", "sessions/0123456789abcdef0123456789abcdeg",
      "sessions/", "sessions/42", "sessions/" + id + "/x"};
  for (const std::string& bad : bad_paths) {
    PathArgs scratch;
    EXPECT_FALSE(match_pattern("sessions/<id:hex32>/", bad, &scratch)) << bad;
  }
  // A decimal segment is still decimal beside a hex one, each in its list.
  args = {};
  ASSERT_TRUE(match_pattern("a/<n>/b/<k:hex32>/", "a/12/b/" + id, &args));
  EXPECT_EQ(args.ids, (std::vector<int64_t>{12}));
  EXPECT_EQ(args.hex_ids, (std::vector<std::string>{id}));
}

// --- Router

struct TestRoute {
  std::string_view pattern;
  std::string_view method;
  int id;
};

// Declared out of the canonical method order on purpose.
constexpr TestRoute kTable[] = {
    {"users/", "POST", 1},
    {"users/", "GET", 2},
    {"users/me/", "DELETE", 3},
    {"users/me/", "GET", 4},
    {"users/<id>/", "GET", 5},
    {"users/<id>/", "DELETE", 6},
    {"users/me/", "PATCH", 7},  // a sibling after another pattern
    {"users/<id>/", "PUT", 8},
    {"users/<id>/", "PATCH", 9},
    {"token/obtain/", "POST", 10},
    {"health/", "GET", 11},
    {"items/<id>/", "GET", 12},
    {"items/0/", "POST", 13},  // shadowed: items/<id>/ comes first
    {"a/<x>/b/<y>/", "GET", 14},
    {"sessions/", "GET", 15},
    {"sessions/<id:hex32>/", "DELETE", 16},
};

const Router<TestRoute>& router() {
  static const Router<TestRoute> r(std::begin(kTable), std::end(kTable));
  return r;
}

constexpr const char* P = "/api/v1/auth/";

std::string path(std::string_view rel) { return std::string(P) + std::string(rel); }

TEST(Router, UnknownPathIsNotFound) {
  for (const char* p : {"/api/v1/auth/nope/", "/api/v1/auth/", "/elsewhere/users/", "/api/v1/auth/users/me/x",
                        "/api/v1/auth/users/abc/"}) {
    auto m = router().find("GET", p);
    EXPECT_FALSE(m.path_found()) << p;
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_TRUE(m.allow().empty()) << p;
  }
}

TEST(Router, FindsTheRouteForMethodAndPathWithOrWithoutSlash) {
  for (const char* rel : {"users/", "users"}) {
    auto get = router().find("GET", path(rel));
    ASSERT_NE(get.route, nullptr) << rel;
    EXPECT_EQ(get.route->id, 2);
    auto post = router().find("POST", path(rel));
    ASSERT_NE(post.route, nullptr) << rel;
    EXPECT_EQ(post.route->id, 1);
  }
  auto obtain = router().find("POST", path("token/obtain"));
  ASSERT_NE(obtain.route, nullptr);
  EXPECT_EQ(obtain.route->id, 10);
}

TEST(Router, MethodsAreCaseSensitive) {
  auto m = router().find("get", path("users/"));
  EXPECT_TRUE(m.path_found());
  EXPECT_EQ(m.route, nullptr);
}

TEST(Router, WrongMethodGivesAllowInCanonicalOrder) {
  auto m = router().find("PUT", path("users/"));
  EXPECT_TRUE(m.path_found());
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow(), "GET, POST, HEAD");

  auto me = router().find("POST", path("users/me/"));
  EXPECT_EQ(me.route, nullptr);
  EXPECT_EQ(me.allow(), "GET, PATCH, DELETE, HEAD");

  auto id = router().find("POST", path("users/5/"));
  EXPECT_EQ(id.route, nullptr);
  EXPECT_EQ(id.allow(), "GET, PUT, PATCH, DELETE, HEAD");

  auto obtain = router().find("GET", path("token/obtain/"));
  EXPECT_EQ(obtain.route, nullptr);
  EXPECT_EQ(obtain.allow(), "POST");  // no GET, so no HEAD
}

TEST(Router, AllowIsComputedEvenWhenTheMethodMatches) {
  auto m = router().find("GET", path("users/me"));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.allow(), "GET, PATCH, DELETE, HEAD");
  EXPECT_EQ(m.siblings.size(), 3u);
}

TEST(Router, HeadSelectsTheGetRoute) {
  auto head = router().find("HEAD", path("health/"));
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->id, 11);
  EXPECT_EQ(head.route->method, "GET");
  EXPECT_EQ(head.allow(), "GET, HEAD");

  auto no_get = router().find("HEAD", path("token/obtain/"));
  EXPECT_TRUE(no_get.path_found());
  EXPECT_EQ(no_get.route, nullptr);
  EXPECT_EQ(no_get.allow(), "POST");
}

TEST(Router, OptionsIsNeverAllowed) {
  auto m = router().find("OPTIONS", path("users/"));
  EXPECT_TRUE(m.path_found());
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow().find("OPTIONS"), std::string::npos);
}

TEST(Router, LiteralAndIdRoutesDoNotMix) {
  auto me = router().find("DELETE", path("users/me/"));
  ASSERT_NE(me.route, nullptr);
  EXPECT_EQ(me.route->id, 3);
  EXPECT_TRUE(me.args.ids.empty());

  auto patch_me = router().find("PATCH", path("users/me"));
  ASSERT_NE(patch_me.route, nullptr);
  EXPECT_EQ(patch_me.route->id, 7);

  auto id = router().find("PUT", path("users/42/"));
  ASSERT_NE(id.route, nullptr);
  EXPECT_EQ(id.route->id, 8);
  EXPECT_EQ(id.args.ids, (std::vector<int64_t>{42}));
}

TEST(Router, TheFirstMatchingPatternInTableOrderWins) {
  // "items/0" matches "items/<id>/" first; only that pattern's methods count,
  // so the later literal "items/0/" POST is unreachable.
  auto m = router().find("POST", path("items/0/"));
  EXPECT_TRUE(m.path_found());
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow(), "GET, HEAD");
  EXPECT_EQ(m.args.ids, (std::vector<int64_t>{0}));
}

TEST(Router, LiteralBeforeIdPrecedenceByTableOrder) {
  // A literal segment that also looks like an id: whichever comes first wins.
  constexpr TestRoute literal_first[] = {{"users/1/", "GET", 1}, {"users/<id>/", "GET", 2}};
  constexpr TestRoute id_first[] = {{"users/<id>/", "GET", 2}, {"users/1/", "GET", 1}};
  Router<TestRoute> a(std::begin(literal_first), std::end(literal_first));
  Router<TestRoute> b(std::begin(id_first), std::end(id_first));
  ASSERT_NE(a.find("GET", path("users/1")).route, nullptr);
  EXPECT_EQ(a.find("GET", path("users/1")).route->id, 1);
  EXPECT_EQ(a.find("GET", path("users/2")).route->id, 2);
  ASSERT_NE(b.find("GET", path("users/1")).route, nullptr);
  EXPECT_EQ(b.find("GET", path("users/1")).route->id, 2);

  // "me" is not an id, so users/me/ works wherever it is in the table.
  constexpr TestRoute me_last[] = {{"users/<id>/", "GET", 2}, {"users/me/", "GET", 3}};
  Router<TestRoute> c(std::begin(me_last), std::end(me_last));
  ASSERT_NE(c.find("GET", path("users/me/")).route, nullptr);
  EXPECT_EQ(c.find("GET", path("users/me/")).route->id, 3);
}

TEST(Router, SeveralIdsAreReturnedInOrder) {
  auto m = router().find("GET", path("a/7/b/8/"));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->id, 14);
  EXPECT_EQ(m.args.ids, (std::vector<int64_t>{7, 8}));
}

TEST(Router, Hex32RoutesGiveTheirIdAndTheirOwnAllow) {
  const std::string id = "00000000ffffffff00000000ffffffff";
  auto m = router().find("DELETE", path("sessions/" + id + "/"));
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->id, 16);
  EXPECT_EQ(m.args.hex_ids, (std::vector<std::string>{id}));
  auto get = router().find("GET", path("sessions/" + id));
  EXPECT_TRUE(get.path_found());
  EXPECT_EQ(get.route, nullptr);
  EXPECT_EQ(get.allow(), "DELETE");
  EXPECT_FALSE(router().find("DELETE", path("sessions/" + id.substr(1))).path_found());
  EXPECT_EQ(router().find("GET", path("sessions")).route->id, 15);
}

TEST(Router, EmptyTable) {
  Router<TestRoute> empty(std::begin(kTable), std::begin(kTable));
  auto m = empty.find("GET", path("users/"));
  EXPECT_FALSE(m.path_found());
  EXPECT_EQ(m.route, nullptr);
}

}  // namespace
}  // namespace cpa::http
