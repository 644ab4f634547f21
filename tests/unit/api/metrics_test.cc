// GET metrics/ through api::dispatch (API.md §8): who may read it, its route
// table entry (HEAD, 405), what it reports; and what requests count for it
// (the Tally each one hands the worker).
#include <gtest/gtest.h>

#include <string>

#include "unit/api/api_fixture.h"
#include "api/limits.h"
#include "api/routes.h"
#include "core/version.h"
#include "metrics/render.h"

namespace cpa::api {
namespace {

using testing::Answer;

constexpr const char* kNotFound = R"({"detail":"Not found."})";
constexpr const char* kLocal = "127.0.0.1";

class MetricsTest : public testing::ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    std::string error;
    counters_ = metrics::Counters::create(&error);
    ASSERT_NE(counters_, nullptr) << error;
    services_->counters = counters_.get();
  }

  Answer scrape(const std::string& method = "GET", const std::string& address = kLocal,
                const std::string& path = "metrics/") {
    return send(method, path, "", "", address);
  }

  Answer login(const std::string& email, const std::string& password) {
    return post("token/obtain/",
                R"({"email":")" + email + R"(","password":")" + password + R"("})");
  }

  std::unique_ptr<metrics::Counters> counters_;
};

std::string cidr_text(const Cidr& c) { return c.text(); }

TEST_F(MetricsTest, AnAllowedClientGetsPrometheusText) {
  ASSERT_EQ(cidr_text(config_.metrics_allow.at(0)), "127.0.0.1/32");  // the default
  for (const char* path : {"metrics/", "metrics"}) {
    Answer a = scrape("GET", kLocal, path);
    ASSERT_EQ(a.status, 200) << path << a.body;
    EXPECT_EQ(a.response.content_type, "text/plain; version=0.0.4");
    EXPECT_NE(a.body.find("cryptopay_auth_build_info{version=\"" + std::string(version()) +
                          "\"} 1\n"),
              std::string::npos)
        << a.body;
  }
  // HEAD wherever GET is (§1).
  EXPECT_EQ(scrape("HEAD").status, 200);
}

TEST_F(MetricsTest, OtherMethodsAre405ForAnAllowedClient) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    Answer a = scrape(method);
    EXPECT_EQ(a.status, 405) << method;
    EXPECT_EQ(a.body, std::string(R"({"detail":"Method \")") + method + R"(\" not allowed."})");
    ASSERT_NE(a.response.header("Allow"), nullptr);
    EXPECT_EQ(*a.response.header("Allow"), "GET, HEAD");
  }
}

TEST_F(MetricsTest, AnyOtherClientGets404WhateverTheMethod) {
  for (const char* address : {kAddress, "127.0.0.2", "::1", "", "not an address"}) {
    for (const char* method : {"GET", "HEAD", "POST", "DELETE", "OPTIONS", "PROPFIND"}) {
      Answer a = scrape(method, address);
      EXPECT_EQ(a.status, 404) << method << " from " << address;
      EXPECT_EQ(a.body, kNotFound) << method << " from " << address;
      EXPECT_EQ(a.response.header("Allow"), nullptr);
    }
  }
  // Even one with a valid token: the path does not exist for it.
  const std::string email = "ops@example.com";
  make_user(email);
  const std::string access = ApiTest::login(email).second;
  EXPECT_EQ(send("GET", "metrics/", "", access, kAddress).status, 404);
}

TEST_F(MetricsTest, TheAllowListIsTheConfiguredOne) {
  std::string why;
  config_.metrics_allow = {*parse_cidr("10.0.0.0/8", &why), *parse_cidr("::1/128", &why)};
  EXPECT_EQ(scrape("GET", "10.200.3.4").status, 200);
  EXPECT_EQ(scrape("GET", "::1").status, 200);
  EXPECT_EQ(scrape("GET", "127.0.0.1").status, 404);
  config_.metrics_allow = {};  // AUTH_METRICS_ALLOW=none
  EXPECT_EQ(scrape("GET", "::1").status, 404);
  config_.metrics_allow = {*parse_cidr("0.0.0.0/0", &why)};
  EXPECT_EQ(scrape("GET", kAddress).status, 200);
}

TEST_F(MetricsTest, TheMailQueueIsReadAtScrapeTime) {
  EXPECT_NE(scrape().body.find("cryptopay_auth_mail_queue_messages{state=\"pending\"} 0\n"),
            std::string::npos);
  ASSERT_EQ(post("users/", R"({"email":"q@example.com","terms_accepted":true})").status, 201);
  const std::string body = scrape().body;
  EXPECT_NE(body.find("cryptopay_auth_mail_queue_messages{state=\"pending\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("cryptopay_auth_mail_queue_readable 1\n"), std::string::npos);
}

TEST_F(MetricsTest, TheRouteLabelIsThePatternAndUnknownForNoRoute) {
  auto slot_of = [](const std::string& path) {
    http::Request r;
    r.method = "GET";
    r.path = "/api/v1/auth/" + path;
    return metrics_route_slot(resolve(r));
  };
  const auto patterns = route_patterns();
  ASSERT_LT(slot_of("users/42/"), patterns.size());
  EXPECT_EQ(patterns[slot_of("users/42/")], "users/<id>/");
  EXPECT_EQ(patterns[slot_of("users/42")], "users/<id>/");
  EXPECT_EQ(patterns[slot_of("metrics")], "metrics/");
  EXPECT_EQ(patterns[slot_of("sessions/" + std::string(32, 'a') + "/")], "sessions/<id:hex32>/");
  EXPECT_EQ(slot_of("nope/"), metrics::kUnknownRoute);
  EXPECT_EQ(slot_of("users/abc/"), metrics::kUnknownRoute);
  // Each pattern once: one label per path, whatever its methods.
  for (size_t i = 0; i < patterns.size(); ++i)
    for (size_t j = i + 1; j < patterns.size(); ++j) EXPECT_NE(patterns[i], patterns[j]);
  for (const Route& r : routes()) EXPECT_EQ(patterns[pattern_slot(r)], r.pattern);
}

// --- what requests tally

TEST_F(MetricsTest, LoginsTallyTheirResult) {
  const std::string email = "login@example.com";
  make_user(email);
  Answer ok = login(email, kPassword);
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.tally.logins[idx(metrics::Login::kSuccess)], 1u);
  EXPECT_EQ(ok.tally.tokens_issued[idx(metrics::TokenType::kAccess)], 1u);
  EXPECT_EQ(ok.tally.tokens_issued[idx(metrics::TokenType::kRefresh)], 1u);

  // Wrong, and unknown: failures. A form error is no login attempt at all.
  Answer wrong = login(email, "wrong password");
  ASSERT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.tally.logins[idx(metrics::Login::kFailure)], 1u);
  EXPECT_EQ(wrong.tally.tokens_issued[idx(metrics::TokenType::kAccess)], 0u);
  EXPECT_EQ(login("nobody@example.com", "x").tally.logins[idx(metrics::Login::kFailure)], 1u);
  Answer form = post("token/obtain/", R"({"email":"login@example.com"})");
  ASSERT_EQ(form.status, 400);
  EXPECT_EQ(form.tally.logins, (metrics::Tally().logins));

  for (int i = 1; i < limits::kLoginMaxFailuresPerAddress; ++i)
    ASSERT_EQ(login(email, "wrong password").status, 401);
  Answer throttled = login(email, kPassword);
  ASSERT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.tally.logins[idx(metrics::Login::kThrottled)], 1u);
  EXPECT_EQ(throttled.tally.logins[idx(metrics::Login::kSuccess)], 0u);
}

TEST_F(MetricsTest, CodesTallySendsAndChecksByPurposeAndResult) {
  const auto verification = idx(metrics::Purpose::kEmailVerification);
  Answer reg = post("users/", R"({"email":"codes@example.com","terms_accepted":true})");
  ASSERT_EQ(reg.status, 201);
  EXPECT_EQ(reg.tally.codes_sent[verification], 1u);

  auto verify = [&](const std::string& code) {
    return post("verify-code/", R"({"email":"codes@example.com","code":")" + code +
                                    R"(","purpose":"email_verification"})");
  };
  const std::string wrong_code = code() == "999999" ? "999998" : "999999";
  Answer wrong = verify(wrong_code);
  ASSERT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.tally.code_checks[verification][idx(metrics::CodeCheck::kWrong)], 1u);
  Answer ok = verify(code());
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ok.tally.code_checks[verification][idx(metrics::CodeCheck::kOk)], 1u);
  Answer used = verify(code());  // used up: no live code
  ASSERT_EQ(used.status, 400);
  EXPECT_EQ(used.tally.code_checks[verification][idx(metrics::CodeCheck::kInvalid)], 1u);

  // Five wrong guesses burn a code; the next guess is too_many.
  ASSERT_EQ(post("recovery-request/", R"({"email":"codes@example.com"})").status, 200);
  const auto recovery = idx(metrics::Purpose::kPasswordRecovery);
  auto guess = [&](const std::string& c) {
    return post("verify-code/", R"({"email":"codes@example.com","code":")" + c +
                                    R"(","purpose":"password_recovery"})");
  };
  for (int i = 0; i < limits::kCodeMaxWrongGuesses; ++i)
    EXPECT_EQ(guess(wrong_code).tally.code_checks[recovery][idx(metrics::CodeCheck::kWrong)], 1u);
  Answer burnt = guess(code());
  ASSERT_EQ(burnt.status, 400);
  EXPECT_EQ(burnt.tally.code_checks[recovery][idx(metrics::CodeCheck::kTooMany)], 1u);
}

TEST_F(MetricsTest, RefreshReuseAndLogoutTallyTheTokensTheyRevoke) {
  const std::string email = "reuse@example.com";
  make_user(email);
  const std::string first = ApiTest::login(email).first;
  auto refresh = [&](const std::string& token) {
    return post("token/refresh/", R"({"refresh":")" + token + R"("})");
  };
  Answer rotated = refresh(first);
  ASSERT_EQ(rotated.status, 200);
  EXPECT_EQ(rotated.tally.tokens_revoked[idx(metrics::Revocation::kRotation)], 1u);
  EXPECT_EQ(rotated.tally.tokens_issued[idx(metrics::TokenType::kRefresh)], 1u);
  EXPECT_EQ(rotated.tally.refresh_reuse, 0u);

  // The first token again: theft. The session's live tokens go: the
  // refresh token just issued, and the two access tokens.
  Answer reused = refresh(first);
  ASSERT_EQ(reused.status, 401);
  EXPECT_EQ(reused.tally.refresh_reuse, 1u);
  EXPECT_EQ(reused.tally.tokens_revoked[idx(metrics::Revocation::kReuse)], 3u);
  // Once more: the session is gone already, and the token is a revoked one
  // like any other (no longer merely rotated): nothing more is counted.
  Answer again = refresh(first);
  ASSERT_EQ(again.status, 401);
  EXPECT_EQ(again.tally.refresh_reuse, 0u);
  EXPECT_EQ(again.tally.tokens_revoked[idx(metrics::Revocation::kReuse)], 0u);

  const std::string other = ApiTest::login(email).first;
  Answer logout = post("token/blacklist/", R"({"refresh":")" + other + R"("})");
  ASSERT_EQ(logout.status, 200);
  EXPECT_EQ(logout.tally.tokens_revoked[idx(metrics::Revocation::kLogout)], 2u);
}

}  // namespace
}  // namespace cpa::api
