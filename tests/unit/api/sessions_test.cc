// Sessions (API.md §9) through api::dispatch (api_fixture.h): what is
// listed, in which order, what ending one or all of them revokes, and how
// sessions end with logout, a password change and expiry.
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "unit/api/api_fixture.h"

namespace cpa::api::testing {
namespace {

struct Listed {
  std::string id, created_at, last_used_at, ip, user_agent;
  bool current = false;
};

class SessionsTest : public ApiTest {
 protected:
  struct Login {
    std::string refresh, access, id;  // id: the session's, the refresh token's jti
  };

  // token/obtain/ from `address` with `user_agent` ("" sends no User-Agent).
  Login login_as(const std::string& email, const std::string& address,
                 const std::string& user_agent) {
    set_user_agent(user_agent);
    auto [refresh, access] = login(email, address);
    headers_.clear();
    return {refresh, access, jti_of(refresh)};
  }

  void set_user_agent(const std::string& user_agent) {
    headers_.clear();
    if (!user_agent.empty()) headers_.emplace_back("user-agent", user_agent);
  }

  Answer refresh(const std::string& token, const std::string& address = kAddress) {
    return post("token/refresh/", R"({"refresh":")" + token + R"("})", "", address);
  }

  // GET sessions/ (a plain array), parsed.
  std::vector<Listed> list(const std::string& access) {
    Answer a = send("GET", "sessions/", "", access);
    EXPECT_EQ(a.status, 200) << a.body;
    rapidjson::Document doc;
    doc.Parse(a.body.c_str());
    std::vector<Listed> out;
    if (!doc.IsArray()) {
      ADD_FAILURE() << "not an array: " << a.body;
      return out;
    }
    for (const auto& s : doc.GetArray()) {
      out.push_back({s["id"].GetString(), s["created_at"].GetString(),
                     s["last_used_at"].GetString(), s["ip"].GetString(),
                     s["user_agent"].GetString(), s["current"].GetBool()});
    }
    return out;
  }

  std::vector<std::string> ids(const std::string& access) {
    std::vector<std::string> out;
    for (const Listed& s : list(access)) out.push_back(s.id);
    return out;
  }

  static constexpr const char* kNotFound = R"({"detail":"Not found."})";
  static constexpr const char* kBlacklisted =
      R"({"detail":"Token is blacklisted","code":"token_not_valid"})";
  static constexpr const char* kNotValid =
      R"({"detail":"Given token not valid for any token type","code":"token_not_valid"})";
};

TEST_F(SessionsTest, ListsLiveSessionsMostRecentlyUsedFirstWithTheCurrentOneMarked) {
  make_user("me@example.com");
  Login phone = login_as("me@example.com", "203.0.113.1", "Phone/1.0");
  clock_.advance(10);
  Login laptop = login_as("me@example.com", "203.0.113.2", "Laptop/2.0");
  clock_.advance(10);
  Login tablet = login_as("me@example.com", "203.0.113.3", "");

  // The exact bytes: keys in the contract's order, times as in §7.
  Answer a = send("GET", "sessions/", "", laptop.access);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body,
            "[{\"id\":\"" + tablet.id +
                "\",\"created_at\":\"2027-01-15T08:00:20Z\",\"last_used_at\":\"2027-01-15T08:00:20Z\","
                "\"ip\":\"203.0.113.3\",\"user_agent\":\"\",\"current\":false},"
                "{\"id\":\"" + laptop.id +
                "\",\"created_at\":\"2027-01-15T08:00:10Z\",\"last_used_at\":\"2027-01-15T08:00:10Z\","
                "\"ip\":\"203.0.113.2\",\"user_agent\":\"Laptop/2.0\",\"current\":true},"
                "{\"id\":\"" + phone.id +
                "\",\"created_at\":\"2027-01-15T08:00:00Z\",\"last_used_at\":\"2027-01-15T08:00:00Z\","
                "\"ip\":\"203.0.113.1\",\"user_agent\":\"Phone/1.0\",\"current\":false}]");

  // Each caller sees its own session as the current one.
  std::vector<Listed> seen = list(phone.access);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].id, phone.id);
  EXPECT_TRUE(seen[2].current);
  EXPECT_FALSE(seen[0].current || seen[1].current);

  // Another user's sessions are not listed.
  make_user("other@example.com");
  Login other = login_as("other@example.com", "203.0.113.9", "Other");
  std::vector<Listed> theirs = list(other.access);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].id, other.id);
  EXPECT_EQ(ids(laptop.access), (std::vector<std::string>{tablet.id, laptop.id, phone.id}));
}

TEST_F(SessionsTest, ARefreshMovesTheSessionOnWithItsAddressAndUserAgent) {
  make_user("me@example.com");
  Login first = login_as("me@example.com", "203.0.113.1", "App/1");
  clock_.advance(60);
  Login second = login_as("me@example.com", "203.0.113.2", "Browser");
  clock_.advance(60);
  set_user_agent("App/2");
  Answer refreshed = refresh(first.refresh, "198.51.100.20");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;

  // The refreshed session is the same one (its id stays), now used last.
  std::vector<Listed> seen = list(refreshed.str("access"));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].id, first.id);
  EXPECT_EQ(seen[0].created_at, "2027-01-15T08:00:00Z");
  EXPECT_EQ(seen[0].last_used_at, "2027-01-15T08:02:00Z");
  EXPECT_EQ(seen[0].ip, "198.51.100.20");
  EXPECT_EQ(seen[0].user_agent, "App/2");
  EXPECT_TRUE(seen[0].current);  // the new access token belongs to it
  EXPECT_EQ(seen[1].id, second.id);
  EXPECT_FALSE(seen[1].current);

  // And again from the new refresh token: still one session.
  clock_.advance(5);
  set_user_agent("");
  Answer again = refresh(refreshed.str("refresh"), "198.51.100.21");
  ASSERT_EQ(again.status, 200) << again.body;
  seen = list(second.access);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].id, first.id);
  EXPECT_EQ(seen[0].last_used_at, "2027-01-15T08:02:05Z");
  EXPECT_EQ(seen[0].ip, "198.51.100.21");
  EXPECT_EQ(seen[0].user_agent, "");
}

TEST_F(SessionsTest, TheUserAgentIsCutAt256Characters) {
  make_user("me@example.com");
  std::string long_agent;
  for (int i = 0; i < 300; ++i) long_agent += "\xc3\xa9";  // é: two bytes, one character
  Login a = login_as("me@example.com", kAddress, long_agent);
  std::string expected;
  for (int i = 0; i < 256; ++i) expected += "\xc3\xa9";
  std::vector<Listed> seen = list(a.access);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].user_agent, expected);

  // Exactly 256 stays whole; bytes that are not UTF-8 are read as Latin-1,
  // as Django reads header bytes, so the body stays UTF-8.
  clock_.advance(1);
  Login b = login_as("me@example.com", kAddress, std::string(256, 'x'));
  clock_.advance(1);
  Login c = login_as("me@example.com", kAddress, "caf\xe9");
  seen = list(a.access);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].user_agent, std::string(256, 'x'));
  EXPECT_EQ(seen[0].user_agent, "caf\xc3\xa9");
  EXPECT_EQ(seen[0].id, c.id);
  EXPECT_EQ(seen[1].id, b.id);
}

TEST_F(SessionsTest, EndingASessionRevokesEveryTokenOfIt) {
  make_user("me@example.com");
  Login mine = login_as("me@example.com", kAddress, "Mine");
  Login lost = login_as("me@example.com", kAddress, "Lost phone");
  Answer ended = send("DELETE", "sessions/" + lost.id + "/", "", mine.access);
  EXPECT_EQ(ended.status, 204);
  EXPECT_EQ(ended.body, "");
  EXPECT_EQ(ids(mine.access), (std::vector<std::string>{mine.id}));
  // The lost device's access and refresh tokens are dead.
  EXPECT_EQ(send("GET", "sessions/", "", lost.access).body, kNotValid);
  EXPECT_EQ(refresh(lost.refresh).body, kBlacklisted);
  // Ending it again: it is no longer a live session.
  Answer again = send("DELETE", "sessions/" + lost.id, "", mine.access);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.body, kNotFound);
  // The caller's own session may be ended too: that is a logout.
  EXPECT_EQ(send("DELETE", "sessions/" + mine.id + "/", "", mine.access).status, 204);
  EXPECT_EQ(send("GET", "sessions/", "", mine.access).status, 401);
}

TEST_F(SessionsTest, AnotherUsersSessionOrNoSessionIsNotFound) {
  make_user("me@example.com");
  make_user("other@example.com");
  Login mine = login_as("me@example.com", kAddress, "");
  Login theirs = login_as("other@example.com", kAddress, "");
  Answer other = send("DELETE", "sessions/" + theirs.id + "/", "", mine.access);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, kNotFound);
  EXPECT_EQ(ids(theirs.access), (std::vector<std::string>{theirs.id}));  // untouched
  EXPECT_EQ(refresh(theirs.refresh).status, 200);

  Answer never = send("DELETE", "sessions/" + std::string(32, '0') + "/", "", mine.access);
  EXPECT_EQ(never.status, 404);
  EXPECT_EQ(never.body, kNotFound);
  // An access token's jti names no session; nor does a malformed id (no route).
  EXPECT_EQ(send("DELETE", "sessions/" + jti_of(mine.access) + "/", "", mine.access).status, 404);
  EXPECT_EQ(send("DELETE", "sessions/ABC/", "", mine.access).body, kNotFound);
}

TEST_F(SessionsTest, EndingEveryOtherSessionKeepsTheCurrentOne) {
  make_user("me@example.com");
  make_user("other@example.com");
  Login a = login_as("me@example.com", kAddress, "A");
  Login b = login_as("me@example.com", kAddress, "B");
  Login c = login_as("me@example.com", kAddress, "C");
  Login theirs = login_as("other@example.com", kAddress, "");
  Answer ended = send("DELETE", "sessions/", "", b.access);
  EXPECT_EQ(ended.status, 204);
  EXPECT_EQ(ended.body, "");
  EXPECT_EQ(ids(b.access), (std::vector<std::string>{b.id}));
  for (const Login* gone : {&a, &c}) {
    EXPECT_EQ(send("GET", "sessions/", "", gone->access).body, kNotValid);
    EXPECT_EQ(refresh(gone->refresh).body, kBlacklisted);
  }
  EXPECT_EQ(refresh(b.refresh).status, 200);  // the current session goes on
  EXPECT_EQ(ids(theirs.access), (std::vector<std::string>{theirs.id}));
  // With nothing else left it changes nothing.
  clock_.advance(1);
  Login d = login_as("me@example.com", kAddress, "D");
  EXPECT_EQ(send("DELETE", "sessions", "", d.access).status, 204);
  EXPECT_EQ(send("DELETE", "sessions", "", d.access).status, 204);
  EXPECT_EQ(ids(d.access), (std::vector<std::string>{d.id}));
}

TEST_F(SessionsTest, SessionsEndWithLogoutPasswordChangeAndExpiry) {
  make_user("me@example.com");
  Login a = login_as("me@example.com", kAddress, "A");
  Login b = login_as("me@example.com", kAddress, "B");
  // Logout ends that session.
  ASSERT_EQ(post("token/blacklist/", R"({"refresh":")" + b.refresh + R"("})").status, 200);
  EXPECT_EQ(ids(a.access), (std::vector<std::string>{a.id}));

  // A password change ends every session; the next login is the only one.
  Answer changed = post("users/set_password/",
                        R"({"current_password":")" + std::string(kPassword) +
                            R"(","new_password":"another fine secret","re_new_password":"another fine secret"})",
                        a.access);
  ASSERT_EQ(changed.status, 204) << changed.body;
  Answer fresh = post("token/obtain/",
                      R"({"email":"me@example.com","password":"another fine secret"})");
  ASSERT_EQ(fresh.status, 200);
  const std::string fresh_id = jti_of(fresh.str("refresh"));
  EXPECT_EQ(ids(fresh.str("access")), (std::vector<std::string>{fresh_id}));

  // A session whose refresh token has expired is gone, though never revoked.
  clock_.advance(config_.refresh_ttl);
  Answer later = post("token/obtain/",
                      R"({"email":"me@example.com","password":"another fine secret"})");
  ASSERT_EQ(later.status, 200);
  EXPECT_EQ(ids(later.str("access")), (std::vector<std::string>{jti_of(later.str("refresh"))}));
  EXPECT_EQ(send("DELETE", "sessions/" + fresh_id + "/", "", later.str("access")).status, 404);
}

TEST_F(SessionsTest, DeletingTheAccountTakesItsSessions) {
  make_user("me@example.com");
  Login a = login_as("me@example.com", kAddress, "A");
  login_as("me@example.com", kAddress, "B");
  Answer deleted = send("DELETE", "users/me/",
                        R"({"current_password":")" + std::string(kPassword) + R"("})", a.access);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(send("GET", "sessions/", "", a.access).status, 401);
}

TEST_F(SessionsTest, LimitAndOffsetGiveTheEnvelope) {
  make_user("me@example.com");
  Login a = login_as("me@example.com", kAddress, "A");
  clock_.advance(1);
  Login b = login_as("me@example.com", kAddress, "B");
  clock_.advance(1);
  Login c = login_as("me@example.com", kAddress, "C");

  Answer first = send("GET", "sessions/?limit=2", "", a.access);
  ASSERT_EQ(first.status, 200);
  rapidjson::Document doc;
  doc.Parse(first.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << first.body;
  EXPECT_EQ(first.body.substr(0, first.body.find("\"results\"")),
            R"({"count":3,"next":"http://127.0.0.1:8080/api/v1/auth/sessions/?limit=2&offset=2","previous":null,)");
  ASSERT_EQ(doc["results"].Size(), 2u);
  EXPECT_EQ(std::string(doc["results"][0]["id"].GetString()), c.id);
  EXPECT_EQ(std::string(doc["results"][1]["id"].GetString()), b.id);

  Answer last = send("GET", "sessions/?limit=2&offset=2", "", a.access);
  doc.Parse(last.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << last.body;
  EXPECT_EQ(last.body.substr(0, last.body.find("\"results\"")),
            R"({"count":3,"next":null,"previous":"http://127.0.0.1:8080/api/v1/auth/sessions/?limit=2",)");
  ASSERT_EQ(doc["results"].Size(), 1u);
  EXPECT_EQ(std::string(doc["results"][0]["id"].GetString()), a.id);
  EXPECT_TRUE(doc["results"][0]["current"].GetBool());

  // offset alone, or a limit that is no positive integer: the plain array.
  for (const char* query : {"?offset=1", "?limit=0", "?limit=x"}) {
    Answer plain = send("GET", std::string("sessions/") + query, "", a.access);
    EXPECT_EQ(plain.body.front(), '[') << query;
    doc.Parse(plain.body.c_str());
    EXPECT_EQ(doc.Size(), 3u) << query;
  }
}

TEST_F(SessionsTest, OtherMethodsAre405AfterAuthentication) {
  make_user("me@example.com");
  Login a = login_as("me@example.com", kAddress, "");
  const std::string one = "sessions/" + a.id + "/";
  Answer post_list = send("POST", "sessions/", "{}", a.access);
  EXPECT_EQ(post_list.status, 405);
  EXPECT_EQ(post_list.body, R"({"detail":"Method \"POST\" not allowed."})");
  ASSERT_NE(post_list.response.header("Allow"), nullptr);
  EXPECT_EQ(*post_list.response.header("Allow"), "GET, DELETE, HEAD");
  Answer get_one = send("GET", one, "", a.access);
  EXPECT_EQ(get_one.status, 405);
  ASSERT_NE(get_one.response.header("Allow"), nullptr);
  EXPECT_EQ(*get_one.response.header("Allow"), "DELETE");
  // No token: 401 first, whatever the method.
  for (const auto& [method, path] : {std::pair<std::string, std::string>{"GET", "sessions/"},
                                     {"POST", "sessions/"},
                                     {"DELETE", "sessions/"},
                                     {"DELETE", one},
                                     {"PATCH", one}}) {
    Answer none = send(method, path);
    EXPECT_EQ(none.status, 401) << method << " " << path;
    EXPECT_EQ(none.body, R"({"detail":"Authentication credentials were not provided."})");
  }
}

}  // namespace
}  // namespace cpa::api::testing
