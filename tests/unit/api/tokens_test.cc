// token/refresh/ and its reuse grace (API.md §4, AUTH_REFRESH_REUSE_GRACE)
// through api::dispatch (api_fixture.h): time moves on the ManualClock.
#include <string>

#include "unit/api/api_fixture.h"

namespace cpa::api::testing {
namespace {

constexpr const char* kBlacklisted =
    R"({"detail":"Token is blacklisted","code":"token_not_valid"})";
constexpr const char* kInvalid =
    R"({"detail":"Token is invalid or expired","code":"token_not_valid"})";

class RefreshTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    make_user("me@example.com");
    auto [refresh, access] = login("me@example.com");
    first_refresh_ = refresh;
    first_access_ = access;
    session_ = jti_of(refresh);
  }

  Answer refresh(const std::string& token) {
    return post("token/refresh/", R"({"refresh":")" + token + R"("})");
  }
  Answer verify(const std::string& token) {
    return post("token/verify/", R"({"token":")" + token + R"("})");
  }
  Answer logout(const std::string& token) {
    return post("token/blacklist/", R"({"refresh":")" + token + R"("})");
  }

  // The session (family) a token was recorded in.
  std::string family_of(const std::string& token) {
    auto found = store_->token_with_user(jti_of(token));
    EXPECT_TRUE(found.ok() && found->has_value());
    return found.ok() && found->has_value() ? (*found)->first.family : "";
  }

  // The caller's live sessions as GET sessions/ lists them, from a new login.
  std::string listed_sessions() {
    auto [refresh, access] = login("me@example.com");
    Answer a = send("GET", "sessions/", "", access);
    logout(refresh);  // that login is not part of what is looked at
    return a.body;
  }

  std::string first_refresh_, first_access_, session_;
};

// Grace 0 (the default): of two uses of one token the second is theft, and
// the whole session goes, the winner's new tokens included.
TEST_F(RefreshTest, WithoutGraceASecondUseRevokesTheSession) {
  ASSERT_EQ(config_.refresh_reuse_grace, 0);
  Answer won = refresh(first_refresh_);
  ASSERT_EQ(won.status, 200) << won.body;
  Answer again = refresh(first_refresh_);  // the same second
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(again.body, kBlacklisted);
  EXPECT_EQ(refresh(won.str("refresh")).body, kBlacklisted);
  EXPECT_EQ(verify(won.str("access")).body, kInvalid);
  EXPECT_EQ(verify(first_access_).body, kInvalid);
  EXPECT_EQ(listed_sessions().find(session_), std::string::npos);
}

// Within the grace a rotated token gets a new pair of the same session, any
// number of times, up to and including the grace's last second; every pair
// given out stays usable.
TEST_F(RefreshTest, WithinTheGraceReuseGetsANewPairOfTheSameSession) {
  config_.refresh_reuse_grace = 10;
  Answer first = refresh(first_refresh_);
  ASSERT_EQ(first.status, 200) << first.body;
  clock_.advance(4);
  Answer second = refresh(first_refresh_);
  ASSERT_EQ(second.status, 200) << second.body;
  clock_.advance(6);  // +10 s after the rotation: still within
  Answer third = refresh(first_refresh_);
  ASSERT_EQ(third.status, 200) << third.body;

  for (const Answer* a : {&first, &second, &third}) {
    EXPECT_EQ(family_of(a->str("refresh")), session_);
    EXPECT_EQ(family_of(a->str("access")), session_);
    EXPECT_EQ(verify(a->str("access")).status, 200);
  }
  EXPECT_NE(second.str("refresh"), first.str("refresh"));
  EXPECT_NE(third.str("refresh"), second.str("refresh"));
  // Nothing was revoked: the first access token and every new refresh token work.
  EXPECT_EQ(verify(first_access_).status, 200);
  for (const Answer* a : {&first, &second, &third}) {
    Answer next = refresh(a->str("refresh"));
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(family_of(next.str("refresh")), session_);
  }
  // Still one session.
  const std::string listed = listed_sessions();
  EXPECT_NE(listed.find(session_), std::string::npos) << listed;
  EXPECT_EQ(listed.find(session_), listed.rfind(session_));
}

// The grace counts from the token's own rotation, not from its reuses: past
// it, reuse is theft again and the whole session goes.
TEST_F(RefreshTest, PastTheGraceReuseRevokesTheSession) {
  config_.refresh_reuse_grace = 10;
  Answer rotated = refresh(first_refresh_);
  ASSERT_EQ(rotated.status, 200);
  clock_.advance(5);
  Answer within = refresh(first_refresh_);
  ASSERT_EQ(within.status, 200);
  clock_.advance(6);  // +11 s after the rotation
  Answer late = refresh(first_refresh_);
  EXPECT_EQ(late.status, 401);
  EXPECT_EQ(late.body, kBlacklisted);
  for (const Answer* a : {&rotated, &within}) {
    EXPECT_EQ(refresh(a->str("refresh")).body, kBlacklisted);
    EXPECT_EQ(verify(a->str("access")).body, kInvalid);
  }
  EXPECT_EQ(listed_sessions().find(session_), std::string::npos);
  // And the grace does not bring it back: the rotated token is now revoked by theft.
  clock_.advance(-10);
  EXPECT_EQ(refresh(first_refresh_).body, kBlacklisted);
}

// The session's newest refresh token is the one issued last: it keeps the
// session live after the earlier ones expire.
TEST_F(RefreshTest, TheNewestRefreshTokenIsTheOneIssuedLast) {
  config_.refresh_reuse_grace = 10;
  Answer rotated = refresh(first_refresh_);
  ASSERT_EQ(rotated.status, 200);
  clock_.advance(10);
  Answer reused = refresh(first_refresh_);
  ASSERT_EQ(reused.status, 200);
  clock_.advance(config_.refresh_ttl - 5);  // `rotated` has expired, `reused` has not
  EXPECT_EQ(refresh(rotated.str("refresh")).body, kInvalid);
  EXPECT_NE(listed_sessions().find(session_), std::string::npos);
  clock_.advance(5);
  EXPECT_EQ(listed_sessions().find(session_), std::string::npos);
}

// A token revoked any other way never benefits from the grace.
TEST_F(RefreshTest, ALoggedOutTokenGetsNoGrace) {
  config_.refresh_reuse_grace = 10;
  ASSERT_EQ(logout(first_refresh_).status, 200);
  clock_.advance(1);
  Answer a = refresh(first_refresh_);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, kBlacklisted);
}

TEST_F(RefreshTest, ARotatedTokenOfALoggedOutSessionGetsNoGrace) {
  config_.refresh_reuse_grace = 10;
  Answer rotated = refresh(first_refresh_);
  ASSERT_EQ(rotated.status, 200);
  clock_.advance(1);
  ASSERT_EQ(logout(rotated.str("refresh")).status, 200);
  clock_.advance(1);
  Answer a = refresh(first_refresh_);  // rotated 2 s ago, but the session has ended
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, kBlacklisted);
  EXPECT_EQ(listed_sessions().find(session_), std::string::npos);
}

TEST_F(RefreshTest, ARotatedTokenGetsNoGraceAfterAPasswordChange) {
  config_.refresh_reuse_grace = 10;
  Answer rotated = refresh(first_refresh_);
  ASSERT_EQ(rotated.status, 200);
  Answer changed = post("users/set_password/",
                        R"({"current_password":")" + std::string(kPassword) +
                            R"(","new_password":"another fine secret","re_new_password":"another fine secret"})",
                        rotated.str("access"));
  ASSERT_EQ(changed.status, 204) << changed.body;
  EXPECT_EQ(refresh(first_refresh_).body, kBlacklisted);
}

TEST_F(RefreshTest, ARotatedTokenGetsNoGraceAfterItsSessionWasEnded) {
  config_.refresh_reuse_grace = 10;
  Answer rotated = refresh(first_refresh_);
  ASSERT_EQ(rotated.status, 200);
  auto [other_refresh, other_access] = login("me@example.com");
  ASSERT_EQ(send("DELETE", "sessions/" + session_ + "/", "", other_access).status, 204);
  EXPECT_EQ(refresh(first_refresh_).body, kBlacklisted);
  // Nor after "every other session" ended it.
  Answer again = refresh(other_refresh);
  ASSERT_EQ(again.status, 200);
  auto [third_refresh, third_access] = login("me@example.com");
  ASSERT_EQ(send("DELETE", "sessions/", "", third_access).status, 204);
  EXPECT_EQ(refresh(other_refresh).body, kBlacklisted);
}

}  // namespace
}  // namespace cpa::api::testing
