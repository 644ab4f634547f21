// The findings of the security review (issue 10) that the handlers own,
// each shown at its edge through api::dispatch (api_fixture.h).
#include <string>
#include <vector>

#include "api/limits.h"
#include "auth/password.h"
#include "unit/api/api_fixture.h"

namespace cpa::api::testing {
namespace {

std::string login_json(const std::string& email, const std::string& password) {
  return R"({"email":")" + email + R"(","password":")" + password + R"("})";
}

// 1. A login whose password check ran before a password change committed
// gets no tokens: the write re-reads the account.
TEST_F(ApiTest, LoginRacingAPasswordChangeGetsNoTokens) {
  make_user("race@example.com");
  auto [refresh, access] = login("race@example.com");
  // The obtain's first random draw is its token id, after the password check
  // and before the write that records the tokens: the change lands there.
  rng_.on_draw = [&, access = access] {
    Answer changed = post("users/set_password/",
                          R"({"current_password":")" + std::string(kPassword) +
                              R"(","new_password":"another fine secret","re_new_password":"another fine secret"})",
                          access);
    ASSERT_EQ(changed.status, 204) << changed.body;
  };
  Answer racing = post("token/obtain/", login_json("race@example.com", kPassword));
  EXPECT_FALSE(rng_.on_draw);  // the change did run in the middle
  EXPECT_EQ(racing.status, 401) << racing.body;
  EXPECT_EQ(racing.body, R"({"detail":"No active account found with the given credentials"})");
  EXPECT_EQ(post("token/obtain/", login_json("race@example.com", "another fine secret")).status,
            200);
}

// 1. The same on a 🔒 route: a password change that commits while another
// session's set_password/ hashes revokes that session, which then changes nothing.
TEST_F(ApiTest, PasswordChangeRacingAnotherSessionsChangeWins) {
  make_user("two@example.com");
  auto [refresh_a, access_a] = login("two@example.com");
  auto [refresh_b, access_b] = login("two@example.com");
  rng_.on_draw = [&, access_b = access_b] {
    Answer b = post("users/set_password/",
                    R"({"current_password":")" + std::string(kPassword) +
                        R"(","new_password":"bravo wins the race","re_new_password":"bravo wins the race"})",
                    access_b);
    ASSERT_EQ(b.status, 204) << b.body;
  };
  Answer a = post("users/set_password/",
                  R"({"current_password":")" + std::string(kPassword) +
                      R"(","new_password":"alpha loses the race","re_new_password":"alpha loses the race"})",
                  access_a);
  EXPECT_EQ(a.status, 401) << a.body;
  EXPECT_EQ(post("token/obtain/", login_json("two@example.com", "bravo wins the race")).status, 200);
  EXPECT_EQ(post("token/obtain/", login_json("two@example.com", "alpha loses the race")).status, 401);
}

// 2. A recovery code mailed to the old address dies with an email change.
TEST_F(ApiTest, RecoveryCodeSentBeforeAnEmailChangeIsDead) {
  make_user("old@example.com");
  auto [refresh, access] = login("old@example.com");
  rng_.code_draw = 111111;
  const std::string recovery = code();
  ASSERT_EQ(post("recovery-request/", R"({"email":"old@example.com"})").status, 200);
  rng_.code_draw = 222222;
  ASSERT_EQ(post("reset-email-request/",
                 R"({"new_email":"new@example.com","password":")" + std::string(kPassword) + R"("})",
                 access)
                .status,
            200);
  ASSERT_EQ(post("reset-email-verify/", R"({"code":")" + code() + R"("})", access).status, 200);

  const std::string invalid = R"({"code":["Invalid or expired code."]})";
  Answer verify = post("verify-code/", R"({"email":"new@example.com","code":")" + recovery +
                                           R"(","purpose":"password_recovery"})");
  EXPECT_EQ(verify.status, 400);
  EXPECT_EQ(verify.body, invalid);
  Answer reset = post("recovery-reset-password/",
                      R"({"email":"new@example.com","code":")" + recovery +
                          R"(","password":"taken over now","password2":"taken over now"})");
  EXPECT_EQ(reset.status, 400);
  EXPECT_EQ(reset.body, invalid);
  EXPECT_EQ(post("token/obtain/", login_json("new@example.com", kPassword)).status, 200);
}

// 3. Without the code, the first password is set only from the address that
// verified the email.
TEST_F(ApiTest, FirstPasswordWithoutCodeOnlyFromTheVerifyingAddress) {
  ASSERT_EQ(post("users/", R"({"email":"fresh@example.com","terms_accepted":true})").status, 201);
  ASSERT_EQ(post("verify-code/", R"({"email":"fresh@example.com","code":")" + code() +
                                     R"(","purpose":"email_verification"})")
                .status,
            200);
  const std::string body =
      R"({"email":"fresh@example.com","password":"stranger danger","repeat_password":"stranger danger"})";
  Answer stranger = post("public-set-password/", body, "", "203.0.113.99");
  EXPECT_EQ(stranger.status, 400);
  EXPECT_EQ(stranger.body, R"({"code":["This field is required."]})");

  // A wrong code is counted: five, and even the right one no longer works.
  for (int i = 0; i < limits::kCodeMaxWrongGuesses; ++i) {
    Answer wrong = post("public-set-password/",
                        R"({"email":"fresh@example.com","code":"000000","password":"stranger danger","repeat_password":"stranger danger"})",
                        "", "203.0.113.99");
    EXPECT_EQ(wrong.body, R"({"code":["Invalid or expired code."]})");
  }
  Answer late = post("public-set-password/",
                     R"({"email":"fresh@example.com","code":")" + code() +
                         R"(","password":"stranger danger","repeat_password":"stranger danger"})",
                     "", "203.0.113.99");
  EXPECT_EQ(late.body, R"({"code":["Invalid or expired code."]})");

  Answer owner = post("public-set-password/", body);  // from kAddress, which verified
  EXPECT_EQ(owner.status, 200) << owner.body;
}

TEST_F(ApiTest, FirstPasswordWithTheCodeFromAnyAddress) {
  ASSERT_EQ(post("users/", R"({"email":"moved@example.com","terms_accepted":true})").status, 201);
  ASSERT_EQ(post("verify-code/", R"({"email":"moved@example.com","code":")" + code() +
                                     R"(","purpose":"email_verification"})")
                .status,
            200);
  Answer other = post("public-set-password/",
                      R"({"email":"moved@example.com","code":")" + code() +
                          R"(","password":"same owner here","repeat_password":"same owner here"})",
                      "", "203.0.113.50");
  EXPECT_EQ(other.status, 200) << other.body;
}

TEST_F(ApiTest, SetPasswordRequiresCodeWhenConfigured) {
  config_.set_password_requires_code = true;
  ASSERT_EQ(post("users/", R"({"email":"strict@example.com","terms_accepted":true})").status, 201);
  ASSERT_EQ(post("verify-code/", R"({"email":"strict@example.com","code":")" + code() +
                                     R"(","purpose":"email_verification"})")
                .status,
            200);
  // From the very address that verified, and reported with the other fields.
  Answer missing = post("public-set-password/",
                        R"({"email":"strict@example.com","password":"short","repeat_password":"short"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body,
            R"({"password":["This password is too short. It must contain at least 8 characters."],"code":["This field is required."]})");
  Answer with_code = post("public-set-password/",
                          R"({"email":"strict@example.com","code":")" + code() +
                              R"(","password":"long enough now","repeat_password":"long enough now"})");
  EXPECT_EQ(with_code.status, 200) << with_code.body;
}

// 4. Hashes on 🔒 routes are limited per account before any is spent, right
// password or not.
TEST_F(ApiTest, HashingRoutesAreLimitedPerAccount) {
  make_user("hasher@example.com");
  auto [refresh, access] = login("hasher@example.com");
  ASSERT_EQ(post("set-pin/", R"({"pin":"1234","repeat_pin":"1234"})", access).status, 200);
  for (int i = 1; i < limits::kHashMaxPerAccount; ++i)  // set-pin/ spent the first
    ASSERT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).status, 200) << i;
  Answer over = post("verify-pin/", R"({"pin":"1234"})", access);
  EXPECT_EQ(over.status, 429);
  EXPECT_EQ(over.body, R"({"detail":"Request was throttled. Expected available in 600 seconds."})");
  clock_.advance(limits::kHashWindow);
  EXPECT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).status, 200);
}

// 4. An account may have at most 10 email-change codes sent an hour,
// whatever the addresses; over it, 429 before the password is hashed.
TEST_F(ApiTest, EmailChangeCodesAreLimitedPerAccount) {
  make_user("mailer@example.com");
  std::string access = login("mailer@example.com").second;
  auto request = [&](int n, const std::string& password) {
    return post("reset-email-request/", R"({"new_email":"victim)" + std::to_string(n) +
                                            R"(@example.com","password":")" + password + R"("})",
                access);
  };
  for (int i = 0; i < limits::kAccountSendMaxPerWindow; ++i) {
    ASSERT_EQ(request(i, kPassword).status, 200) << i;
    clock_.advance(1);
  }
  Answer over = request(99, kPassword);
  EXPECT_EQ(over.status, 429) << over.body;
  // A wrong password gets the 429 too: no hash was spent to find out.
  EXPECT_EQ(request(98, "wrong password").status, 429);
  clock_.advance(limits::kSendWindow);
  access = login("mailer@example.com").second;  // the first access token has expired
  EXPECT_EQ(request(97, kPassword).status, 200);
}

// 5. Failed logins lock one address out after 10, and every address only
// after 50: a stranger cannot lock the owner out.
TEST_F(ApiTest, LoginFailuresAreLimitedPerAddressThenOverall) {
  make_user("owner@example.com");
  const std::string wrong = login_json("owner@example.com", "not the password");
  for (int i = 0; i < limits::kLoginMaxFailuresPerAddress; ++i)
    ASSERT_EQ(post("token/obtain/", wrong, "", "203.0.113.1").status, 401) << i;
  Answer locked = post("token/obtain/", login_json("owner@example.com", kPassword), "", "203.0.113.1");
  EXPECT_EQ(locked.status, 429);  // even the right password: it is not checked
  EXPECT_EQ(locked.body, R"({"detail":"Request was throttled. Expected available in 900 seconds."})");
  EXPECT_EQ(post("token/obtain/", login_json("owner@example.com", kPassword)).status, 200);

  // 50 failures from all addresses together lock every address.
  for (int a = 2; a <= 5; ++a)
    for (int i = 0; i < limits::kLoginMaxFailuresPerAddress; ++i)
      ASSERT_EQ(post("token/obtain/", wrong, "", "203.0.113." + std::to_string(a)).status, 401);
  EXPECT_EQ(post("token/obtain/", login_json("owner@example.com", kPassword)).status, 429);
  clock_.advance(limits::kLoginFailureWindow);
  EXPECT_EQ(post("token/obtain/", login_json("owner@example.com", kPassword)).status, 200);
}

// 6. After a recovery request, guesses at an unknown email are answered
// exactly as guesses at an active account's code.
TEST_F(ApiTest, CodeGuessesDoNotTellAccountsApart) {
  make_user("known@example.com");
  auto answers = [&](const std::string& email) {
    EXPECT_EQ(post("recovery-request/", R"({"email":")" + email + R"("})").status, 200);
    std::vector<std::string> seen;
    for (int i = 0; i < limits::kCodeMaxWrongGuesses + 2; ++i) {
      seen.push_back(post("verify-code/", R"({"email":")" + email +
                                              R"(","code":"000000","purpose":"password_recovery"})")
                         .body);
    }
    seen.push_back(post("recovery-reset-password/",
                        R"({"email":")" + email +
                            R"(","code":"000000","password":"fine password","password2":"fine password"})")
                       .body);
    return seen;
  };
  auto queued = [&] {
    auto counts = store_->mail_counts();
    return counts.ok() ? counts->pending : -1;
  };
  const int64_t before = queued();
  std::vector<std::string> known = answers("known@example.com");
  const int64_t after_known = queued();
  std::vector<std::string> unknown = answers("nobody@example.com");
  EXPECT_EQ(known, unknown);
  // The same work: each request queued one sealed mail.
  EXPECT_EQ(after_known - before, 1);
  EXPECT_EQ(queued() - after_known, 1);
  // The decoy's is never sent: it names a code no account holds.
  auto due = store_->due_mail(clock_.now(), 10);
  ASSERT_TRUE(due.ok());
  int decoys = 0;
  for (const store::Mail& m : *due) {
    if (m.recipient != "nobody@example.com") continue;
    ++decoys;
    ASSERT_TRUE(m.code.has_value());
    EXPECT_FALSE(*store_->code_is_live(*m.code, clock_.now(), limits::kCodeMaxWrongGuesses));
  }
  EXPECT_EQ(decoys, 1);
  EXPECT_EQ(known.back(), R"({"code":["Too many attempts. Request a new code."]})");

  // A new request starts a new count, for both.
  clock_.advance(limits::kSendInterval);
  EXPECT_EQ(post("recovery-request/", R"({"email":"nobody@example.com"})").status, 200);
  EXPECT_EQ(post("verify-code/",
                 R"({"email":"nobody@example.com","code":"000000","purpose":"password_recovery"})")
                .body,
            R"({"code":["Invalid or expired code."]})");
}

// 10. Page links are never built on a Host the client chose.
TEST_F(ApiTest, PageLinksIgnoreAForeignHost) {
  make_user("staff@example.com");
  ASSERT_TRUE(store_->write([&] {
                      store::NewUser u;
                      u.email = u.email_key = "other@example.com";
                      u.is_active = true;
                      u.date_joined = clock_.now();
                      return store_->insert_user(u).status_or_ok();
                    })
                  .ok());
  store::NewUser admin;
  admin.email = admin.email_key = "admin@example.com";
  admin.password = auth::hash_password(kPassword, 1, rng_);
  admin.is_active = admin.is_staff = true;
  admin.date_joined = clock_.now();
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(admin).status_or_ok(); }).ok());
  auto [refresh, access] = login("admin@example.com");

  Answer local = send("GET", "users/?limit=1", "", access);
  EXPECT_NE(local.body.find(R"("next":"http://127.0.0.1:8080/api/v1/auth/users/?limit=1&offset=1")"),
            std::string::npos)
      << local.body;
  host_ = "evil.example";
  Answer foreign = send("GET", "users/?limit=1", "", access);
  EXPECT_EQ(foreign.body.find("evil.example"), std::string::npos) << foreign.body;
  EXPECT_NE(foreign.body.find(R"("next":"http://localhost/api/v1/auth/users/?limit=1&offset=1")"),
            std::string::npos)
      << foreign.body;
  config_.public_url = "https://auth.example.com";
  Answer configured = send("GET", "users/?limit=1", "", access);
  EXPECT_NE(configured.body.find(
                R"("next":"https://auth.example.com/api/v1/auth/users/?limit=1&offset=1")"),
            std::string::npos)
      << configured.body;
}

// §1: cross-field checks are reported with the field errors.
TEST_F(ApiTest, SetPinReportsMismatchWithFormatErrors) {
  make_user("pin@example.com");
  auto [refresh, access] = login("pin@example.com");
  Answer first = post("set-pin/", R"({"pin":"12a","repeat_pin":"9999"})", access);
  EXPECT_EQ(first.status, 400);
  EXPECT_EQ(first.body,
            R"({"pin":["PIN must be 4 to 6 digits."],"non_field_errors":["The two PIN fields didn't match."]})");
  ASSERT_EQ(post("set-pin/", R"({"pin":"1234","repeat_pin":"1234"})", access).status, 200);
  Answer second = post("set-pin/", R"({"pin":"12","repeat_pin":"1234"})", access);
  EXPECT_EQ(second.body,
            R"({"pin":["PIN must be 4 to 6 digits."],"current_pin":["This field is required."],"non_field_errors":["The two PIN fields didn't match."]})");
}

}  // namespace
}  // namespace cpa::api::testing
