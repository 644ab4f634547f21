#include "metrics/render.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

namespace cpa::metrics {
namespace {

constexpr std::string_view kRoutes[] = {"users/", "users/<id>/", "token/obtain/"};

class Render : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    counters_ = Counters::create(&error);
    ASSERT_NE(counters_, nullptr) << error;
  }

  std::string render_now(std::optional<MailQueue> queue = MailQueue{2, 1, 5}) {
    return render(counters_->block(),
                  Scrape{.version = "1.2.3", .routes = kRoutes, .mail_queue = queue});
  }

  std::unique_ptr<Counters> counters_;
};

// Every line of a known state, in order: HELP and TYPE for each family;
// requests and latency only where something was counted; the fixed label
// sets in full, zeros included.
TEST_F(Render, AKnownStateIsExactlyTheseLines) {
  counters_->count_request(0, Method::kPost, 201, 1800);
  counters_->count_request(0, Method::kPost, 201, 40000);
  counters_->count_request(0, Method::kPost, 400, 900);
  counters_->count_request(1, Method::kHead, 401, 6000000);
  counters_->count_request(kUnknownRoute, Method::kOther, 404, 120);
  Tally t;
  t.login(Login::kSuccess);
  t.login(Login::kThrottled);
  t.code_sent("email_verification");
  t.code_checked("email_verification", CodeCheck::kOk);
  t.code_checked("password_recovery", CodeCheck::kTooMany);
  t.token_issued(TokenType::kAccess);
  t.token_issued(TokenType::kRefresh);
  t.tokens_revoked_by(Revocation::kReuse, 2);
  t.refresh_reused();
  counters_->add(t);
  counters_->count_mails_delivered(7);
  counters_->count_restart(Role::kWorker);

  const std::string expected =
      "# HELP cryptopay_auth_build_info The running version; always 1.\n"
      "# TYPE cryptopay_auth_build_info gauge\n"
      "cryptopay_auth_build_info{version=\"1.2.3\"} 1\n"
      "# HELP cryptopay_auth_requests_total Requests the pool answered, by route pattern "
      "(\"unknown\": no route), method and status. nginx's own answers (its 413, 429, 502...) "
      "are not counted here.\n"
      "# TYPE cryptopay_auth_requests_total counter\n"
      "cryptopay_auth_requests_total{route=\"users/\",method=\"POST\",status=\"201\"} 2\n"
      "cryptopay_auth_requests_total{route=\"users/\",method=\"POST\",status=\"400\"} 1\n"
      "cryptopay_auth_requests_total{route=\"users/<id>/\",method=\"HEAD\",status=\"401\"} 1\n"
      "cryptopay_auth_requests_total{route=\"unknown\",method=\"other\",status=\"404\"} 1\n"
      "# HELP cryptopay_auth_request_duration_seconds Time from accepting a request to "
      "answering it, by route pattern.\n"
      "# TYPE cryptopay_auth_request_duration_seconds histogram\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.001\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.0025\"} 2\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.005\"} 2\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.01\"} 2\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.025\"} 2\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.05\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.1\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.25\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"0.5\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"1\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"2.5\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"5\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/\",le=\"+Inf\"} 3\n"
      "cryptopay_auth_request_duration_seconds_sum{route=\"users/\"} 0.042700\n"
      "cryptopay_auth_request_duration_seconds_count{route=\"users/\"} 3\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.001\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.0025\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.005\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.01\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.025\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.05\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.1\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.25\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"0.5\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"1\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"2.5\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"5\"} 0\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"users/<id>/\",le=\"+Inf\"} 1\n"
      "cryptopay_auth_request_duration_seconds_sum{route=\"users/<id>/\"} 6.000000\n"
      "cryptopay_auth_request_duration_seconds_count{route=\"users/<id>/\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.001\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.0025\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.005\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.01\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.025\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.05\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.1\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.25\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"0.5\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"1\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"2.5\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"5\"} 1\n"
      "cryptopay_auth_request_duration_seconds_bucket{route=\"unknown\",le=\"+Inf\"} 1\n"
      "cryptopay_auth_request_duration_seconds_sum{route=\"unknown\"} 0.000120\n"
      "cryptopay_auth_request_duration_seconds_count{route=\"unknown\"} 1\n"
      "# HELP cryptopay_auth_logins_total token/obtain/ attempts that got as far as the "
      "password: right, wrong (or no such active account), or refused by the login failure "
      "limit.\n"
      "# TYPE cryptopay_auth_logins_total counter\n"
      "cryptopay_auth_logins_total{result=\"success\"} 1\n"
      "cryptopay_auth_logins_total{result=\"failure\"} 0\n"
      "cryptopay_auth_logins_total{result=\"throttled\"} 1\n"
      "# HELP cryptopay_auth_codes_sent_total One-time codes issued and queued to a mailbox, "
      "by purpose.\n"
      "# TYPE cryptopay_auth_codes_sent_total counter\n"
      "cryptopay_auth_codes_sent_total{purpose=\"email_verification\"} 1\n"
      "cryptopay_auth_codes_sent_total{purpose=\"password_recovery\"} 0\n"
      "cryptopay_auth_codes_sent_total{purpose=\"pin_reset\"} 0\n"
      "cryptopay_auth_codes_sent_total{purpose=\"email_change\"} 0\n"
      "# HELP cryptopay_auth_code_checks_total Guesses at one-time codes, by purpose and "
      "result: ok, wrong (counted against the code), too_many (the code is burnt), invalid (no "
      "live code).\n"
      "# TYPE cryptopay_auth_code_checks_total counter\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_verification\",result=\"ok\"} 1\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_verification\",result=\"wrong\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_verification\",result=\"too_many\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_verification\",result=\"invalid\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"password_recovery\",result=\"ok\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"password_recovery\",result=\"wrong\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"password_recovery\",result=\"too_many\"} 1\n"
      "cryptopay_auth_code_checks_total{purpose=\"password_recovery\",result=\"invalid\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"pin_reset\",result=\"ok\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"pin_reset\",result=\"wrong\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"pin_reset\",result=\"too_many\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"pin_reset\",result=\"invalid\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_change\",result=\"ok\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_change\",result=\"wrong\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_change\",result=\"too_many\"} 0\n"
      "cryptopay_auth_code_checks_total{purpose=\"email_change\",result=\"invalid\"} 0\n"
      "# HELP cryptopay_auth_tokens_issued_total JWTs issued, by type.\n"
      "# TYPE cryptopay_auth_tokens_issued_total counter\n"
      "cryptopay_auth_tokens_issued_total{type=\"access\"} 1\n"
      "cryptopay_auth_tokens_issued_total{type=\"refresh\"} 1\n"
      "# HELP cryptopay_auth_tokens_revoked_total JWTs revoked while live, by why: rotation "
      "(token/refresh/), logout, reuse (a rotated refresh token presented again), session_end "
      "(sessions/), password_change.\n"
      "# TYPE cryptopay_auth_tokens_revoked_total counter\n"
      "cryptopay_auth_tokens_revoked_total{reason=\"rotation\"} 0\n"
      "cryptopay_auth_tokens_revoked_total{reason=\"logout\"} 0\n"
      "cryptopay_auth_tokens_revoked_total{reason=\"reuse\"} 2\n"
      "cryptopay_auth_tokens_revoked_total{reason=\"session_end\"} 0\n"
      "cryptopay_auth_tokens_revoked_total{reason=\"password_change\"} 0\n"
      "# HELP cryptopay_auth_refresh_reuse_detected_total Rotated refresh tokens presented "
      "again outside the reuse grace: each revoked its session.\n"
      "# TYPE cryptopay_auth_refresh_reuse_detected_total counter\n"
      "cryptopay_auth_refresh_reuse_detected_total 1\n"
      "# HELP cryptopay_auth_mails_delivered_total Messages the relay (or the file backend) "
      "accepted.\n"
      "# TYPE cryptopay_auth_mails_delivered_total counter\n"
      "cryptopay_auth_mails_delivered_total 7\n"
      "# HELP cryptopay_auth_mail_queue_readable 1 when this scrape could read the outbox, "
      "else 0 (and no mail_queue_messages).\n"
      "# TYPE cryptopay_auth_mail_queue_readable gauge\n"
      "cryptopay_auth_mail_queue_readable 1\n"
      "# HELP cryptopay_auth_mail_queue_messages Outbox rows by state, at scrape time: pending "
      "(to send or retry), failed (given up), expired (code mails whose code died first; pruned "
      "after 7 days).\n"
      "# TYPE cryptopay_auth_mail_queue_messages gauge\n"
      "cryptopay_auth_mail_queue_messages{state=\"pending\"} 2\n"
      "cryptopay_auth_mail_queue_messages{state=\"failed\"} 1\n"
      "cryptopay_auth_mail_queue_messages{state=\"expired\"} 5\n"
      "# HELP cryptopay_auth_worker_restarts_total Children the master restarted after they "
      "died unasked, by role.\n"
      "# TYPE cryptopay_auth_worker_restarts_total counter\n"
      "cryptopay_auth_worker_restarts_total{role=\"worker\"} 1\n"
      "cryptopay_auth_worker_restarts_total{role=\"hasher\"} 0\n"
      "cryptopay_auth_worker_restarts_total{role=\"mailer\"} 0\n"
      "cryptopay_auth_worker_restarts_total{role=\"nginx\"} 0\n";
  EXPECT_EQ(render_now(), expected);
}

TEST_F(Render, AnUnreadableOutboxLeavesOutTheQueueGauge) {
  const std::string text = render_now(std::nullopt);
  EXPECT_NE(text.find("\ncryptopay_auth_mail_queue_readable 0\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE cryptopay_auth_mail_queue_messages gauge\n"), std::string::npos);
  EXPECT_EQ(text.find("cryptopay_auth_mail_queue_messages{"), std::string::npos);
}

TEST_F(Render, NothingCountedYetStillNamesEveryFamily) {
  const std::string text = render_now();
  EXPECT_EQ(text.find("cryptopay_auth_requests_total{"), std::string::npos);
  EXPECT_EQ(text.find("cryptopay_auth_request_duration_seconds_bucket"), std::string::npos);
  for (const char* family :
       {"build_info gauge", "requests_total counter", "request_duration_seconds histogram",
        "logins_total counter", "codes_sent_total counter", "code_checks_total counter",
        "tokens_issued_total counter", "tokens_revoked_total counter",
        "refresh_reuse_detected_total counter", "mails_delivered_total counter",
        "mail_queue_messages gauge", "worker_restarts_total counter"}) {
    EXPECT_NE(text.find(std::string("# TYPE cryptopay_auth_") + family + "\n"), std::string::npos)
        << family;
  }
  EXPECT_NE(text.find("cryptopay_auth_logins_total{result=\"failure\"} 0\n"), std::string::npos);
}

TEST(RenderLabels, AreEscaped) {
  EXPECT_EQ(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label("users/<id>/"), "users/<id>/");
}

}  // namespace
}  // namespace cpa::metrics
