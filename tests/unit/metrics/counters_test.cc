#include "metrics/counters.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace cpa::metrics {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

std::unique_ptr<Counters> make() {
  std::string error;
  std::unique_ptr<Counters> c = Counters::create(&error);
  EXPECT_NE(c, nullptr) << error;
  return c;
}

TEST(Counters, StartAtZero) {
  auto c = make();
  const Block& b = c->block();
  EXPECT_EQ(b.requests[0][0][0].load(kRelaxed), 0u);
  EXPECT_EQ(b.requests[kUnknownRoute][kMethods - 1][kStatusSlots - 1].load(kRelaxed), 0u);
  EXPECT_EQ(b.mails_delivered.load(kRelaxed), 0u);
  EXPECT_EQ(b.restarts[idx(Role::kNginx)].load(kRelaxed), 0u);
}

TEST(Counters, ARequestCountsItsRouteMethodStatusAndLatency) {
  auto c = make();
  c->count_request(3, Method::kPost, 201, 1800);   // 1.8 ms: the 0.0025 bucket
  c->count_request(3, Method::kPost, 201, 2500);   // the bound itself is in its bucket
  c->count_request(3, Method::kGet, 404, 7000000); // 7 s: past the last bound, +Inf
  const Block& b = c->block();
  EXPECT_EQ(b.requests[3][idx(Method::kPost)][status_slot(201)].load(kRelaxed), 2u);
  EXPECT_EQ(b.requests[3][idx(Method::kGet)][status_slot(404)].load(kRelaxed), 1u);
  EXPECT_EQ(b.latency[3][1].load(kRelaxed), 2u);
  EXPECT_EQ(b.latency[3][kBucketSlots - 1].load(kRelaxed), 1u);
  EXPECT_EQ(b.latency_micros[3].load(kRelaxed), 1800u + 2500u + 7000000u);
  // A slot out of range is "unknown", never outside the block.
  c->count_request(kRouteSlots + 5, Method::kGet, 404, 10);
  EXPECT_EQ(b.requests[kUnknownRoute][idx(Method::kGet)][status_slot(404)].load(kRelaxed), 1u);
}

TEST(Counters, MethodsAndStatusesHaveBoundedLabels) {
  EXPECT_EQ(method_of("GET"), Method::kGet);
  EXPECT_EQ(method_of("DELETE"), Method::kDelete);
  EXPECT_EQ(method_of("PROPFIND"), Method::kOther);
  EXPECT_EQ(method_of("get"), Method::kOther);
  EXPECT_EQ(method_label(Method::kOther), "other");
  EXPECT_EQ(status_label(status_slot(429)), "429");
  EXPECT_EQ(status_label(status_slot(418)), "4xx");
  EXPECT_EQ(status_label(status_slot(302)), "3xx");
  EXPECT_EQ(status_label(status_slot(0)), "5xx");
  EXPECT_EQ(status_label(status_slot(999)), "5xx");
  EXPECT_EQ(bucket_slot(0), 0u);
  EXPECT_EQ(bucket_slot(1000), 0u);
  EXPECT_EQ(bucket_slot(1001), 1u);
  EXPECT_EQ(bucket_slot(5000000), kBucketSlots - 2);
  EXPECT_EQ(bucket_slot(5000001), kBucketSlots - 1);
}

TEST(Counters, ATallyAddsWhatTheRequestDid) {
  auto c = make();
  Tally t;
  t.login(Login::kFailure);
  t.login(Login::kFailure);
  t.code_sent("pin_reset");
  t.code_sent("no_such_purpose");  // not a label: not counted
  t.code_checked("email_verification", CodeCheck::kWrong);
  t.token_issued(TokenType::kAccess);
  t.tokens_revoked_by(Revocation::kReuse, 4);
  t.refresh_reused();
  c->add(t);
  c->add(t);
  const Block& b = c->block();
  EXPECT_EQ(b.logins[idx(Login::kFailure)].load(kRelaxed), 4u);
  EXPECT_EQ(b.logins[idx(Login::kSuccess)].load(kRelaxed), 0u);
  EXPECT_EQ(b.codes_sent[idx(Purpose::kPinReset)].load(kRelaxed), 2u);
  uint64_t sent = 0;
  for (const auto& n : b.codes_sent) sent += n.load(kRelaxed);
  EXPECT_EQ(sent, 2u);
  EXPECT_EQ(b.code_checks[idx(Purpose::kEmailVerification)][idx(CodeCheck::kWrong)].load(kRelaxed),
            2u);
  EXPECT_EQ(b.tokens_issued[idx(TokenType::kAccess)].load(kRelaxed), 2u);
  EXPECT_EQ(b.tokens_revoked[idx(Revocation::kReuse)].load(kRelaxed), 8u);
  EXPECT_EQ(b.refresh_reuse.load(kRelaxed), 2u);
}

TEST(Counters, MailsAndRestarts) {
  auto c = make();
  c->count_mails_delivered(3);
  c->count_mails_delivered(0);
  c->count_restart(Role::kHasher);
  EXPECT_EQ(c->block().mails_delivered.load(kRelaxed), 3u);
  EXPECT_EQ(c->block().restarts[idx(Role::kHasher)].load(kRelaxed), 1u);
}

// The point of the block: made before fork(), what every child adds is one
// sum that any of them (and the parent) reads.
TEST(Counters, ChildrenForkedAfterCreationAddToOneSum) {
  auto c = make();
  constexpr int kChildren = 3;
  constexpr int kEach = 10000;
  pid_t pids[kChildren];
  for (pid_t& pid : pids) {
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < kEach; ++i) c->count_request(0, Method::kGet, 200, 100);
      Tally t;
      t.login(Login::kSuccess);
      c->add(t);
      _exit(0);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const Block& b = c->block();
  EXPECT_EQ(b.requests[0][idx(Method::kGet)][status_slot(200)].load(kRelaxed),
            uint64_t{kChildren} * kEach);
  EXPECT_EQ(b.latency_micros[0].load(kRelaxed), uint64_t{kChildren} * kEach * 100);
  EXPECT_EQ(b.logins[idx(Login::kSuccess)].load(kRelaxed), uint64_t{kChildren});
}

// An upgrade hands the block's memfd to the new binary: with the same layout
// it maps the very counters the old processes still add to.
TEST(Counters, AdoptedByItsDescriptorTheSameLayoutSharesTheCounts) {
  std::string error;
  auto made = Counters::create(&error, "GET users/me/ user\n");
  ASSERT_NE(made, nullptr) << error;
  made->count_mails_delivered(2);
  auto adopted = Counters::adopt(dup(made->fd()), &error, "GET users/me/ user\n");
  ASSERT_NE(adopted, nullptr) << error;
  EXPECT_EQ(adopted->block().mails_delivered.load(kRelaxed), 2u);
  adopted->count_mails_delivered(1);  // the new side adds; the old side sees it
  made->count_restart(Role::kWorker);
  EXPECT_EQ(made->block().mails_delivered.load(kRelaxed), 3u);
  EXPECT_EQ(adopted->block().restarts[idx(Role::kWorker)].load(kRelaxed), 1u);
}

// A binary whose route table differs would read every count under another
// route's name: it refuses the block (and starts its own at zero).
TEST(Counters, AnotherLayoutIsRefused) {
  std::string error;
  auto made = Counters::create(&error, "GET users/me/ user\n");
  ASSERT_NE(made, nullptr) << error;
  EXPECT_EQ(Counters::adopt(dup(made->fd()), &error, "GET health/ public\n"), nullptr);
  EXPECT_NE(error.find("other series"), std::string::npos) << error;
  // Not a block at all: another size.
  int fd = memfd_create("not-counters", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  EXPECT_EQ(Counters::adopt(fd, &error, "GET users/me/ user\n"), nullptr);
  EXPECT_NE(error.find("another size"), std::string::npos) << error;
}

}  // namespace
}  // namespace cpa::metrics
