// The Mailer over a real (temporary) SQLite store; only the delivery backend
// is scripted, since it is the seam to the outside world.
#include "mail/mailer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "mail/backend.h"
#include "store/store.h"

namespace cpa::mail {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStart = 1795000000;
constexpr const char* kFrom = "no-reply@cryptopay.example";

// Returns the scripted outcomes in order (then kSent), and records what it
// was asked to deliver.
class ScriptedBackend final : public Backend {
 public:
  Delivery deliver(const Message& message) override {
    delivered.push_back(message);
    if (on_deliver) on_deliver();
    if (script.empty()) return Delivery{};
    Delivery d = script.front();
    script.pop_front();
    return d;
  }

  std::deque<Delivery> script;
  std::vector<Message> delivered;
  std::function<void()> on_deliver;
};

Delivery retry(std::string error) { return {Delivery::Outcome::kRetry, std::move(error)}; }
Delivery permanent(std::string error) { return {Delivery::Outcome::kPermanent, std::move(error)}; }

class MailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cpa-mailer-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    std::string db = (root_ / "auth.db").string();
    Status st = store::Store::migrate(db, 5000);
    ASSERT_TRUE(st.ok()) << st.reason();
    auto opened = store::Store::open(db, 5000);
    ASSERT_TRUE(opened.ok()) << opened.status().reason();
    store_ = std::move(opened.value());
    mailer_ = std::make_unique<Mailer>(*store_, backend_, clock_, kFrom);
  }

  void TearDown() override {
    mailer_.reset();
    store_.reset();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  int64_t enqueue(const std::string& to, const std::string& body, int64_t at) {
    Status st =
        store_->write([&] { return store_->enqueue_mail(to, "Your PIN reset code", body, at); });
    EXPECT_TRUE(st.ok()) << st.reason();
    auto rows = store_->list_mail(store::MailFilter::kAll, 1);  // newest first
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? rows->front().id : 0;
  }

  store::Mail row(int64_t id) {
    auto rows = store_->list_mail(store::MailFilter::kAll, 1000);
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const store::Mail& m : *rows)
        if (m.id == id) return m;
    ADD_FAILURE() << "no outbox row " << id;
    return {};
  }

  int deliver(int max = 100, const volatile bool* stop = nullptr) {
    int delivered = -1;
    Status st = mailer_->deliver_due(max, &delivered, [stop] { return stop && *stop; });
    EXPECT_TRUE(st.ok()) << st.reason();
    return delivered;
  }

  std::optional<int64_t> until_next() {
    auto r = mailer_->seconds_until_next();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }

  fs::path root_;
  std::unique_ptr<store::Store> store_;
  ScriptedBackend backend_;
  ManualClock clock_{kStart};
  std::unique_ptr<Mailer> mailer_;
};

TEST(Backoff, DoublesFromOneSecondUpToAnHour) {
  std::vector<int64_t> want = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(backoff_seconds(static_cast<int>(i) + 1), want[i]) << "attempt " << i + 1;
  EXPECT_EQ(backoff_seconds(64), kMaxBackoffSeconds);
  EXPECT_EQ(backoff_seconds(1000000), kMaxBackoffSeconds);
  EXPECT_EQ(backoff_seconds(0), 1);
}

TEST_F(MailerTest, SentMailIsMarkedAndItsBodyDropped) {
  int64_t id = enqueue("Alice@example.com", "code 123456\n", kStart);
  clock_.advance(3);
  EXPECT_EQ(deliver(), 1);

  ASSERT_EQ(backend_.delivered.size(), 1u);
  const Message& m = backend_.delivered[0];
  EXPECT_EQ(m.id, id);
  EXPECT_EQ(m.from, kFrom);
  EXPECT_EQ(m.to, "Alice@example.com");
  EXPECT_EQ(m.subject, "Your PIN reset code");
  EXPECT_EQ(m.body, "code 123456\n");
  EXPECT_EQ(m.created_at, kStart);

  store::Mail r = row(id);
  EXPECT_EQ(r.status, "sent");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.sent_at, kStart + 3);
  EXPECT_FALSE(r.last_error.has_value());

  // Nothing left: not delivered again.
  EXPECT_EQ(deliver(), 0);
  EXPECT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(until_next(), std::nullopt);
}

TEST_F(MailerTest, RetriesFollowTheBackoffUpToTheCap) {
  int64_t id = enqueue("bob@example.org", "body", kStart);
  int64_t expected_wait = 1;
  for (int attempt = 1; attempt <= 14; ++attempt) {
    backend_.script.push_back(retry("Couldn't connect to server"));
    ASSERT_EQ(until_next(), 0);
    EXPECT_EQ(deliver(), 0);
    store::Mail r = row(id);
    EXPECT_EQ(r.status, "pending");
    EXPECT_EQ(r.attempts, attempt);
    EXPECT_EQ(r.next_attempt_at, clock_.now() + expected_wait) << "attempt " << attempt;
    EXPECT_EQ(r.last_error, "Couldn't connect to server");
    EXPECT_EQ(r.body, "body");  // kept for the next attempt
    EXPECT_EQ(until_next(), expected_wait);

    // One second early: not due, untouched.
    clock_.advance(expected_wait - 1);
    EXPECT_EQ(deliver(), 0);
    EXPECT_EQ(row(id).attempts, attempt);
    EXPECT_EQ(backend_.delivered.size(), static_cast<size_t>(attempt));

    clock_.advance(1);
    expected_wait = std::min<int64_t>(expected_wait * 2, 3600);
  }
  // The relay is back.
  EXPECT_EQ(deliver(), 1);
  store::Mail r = row(id);
  EXPECT_EQ(r.status, "sent");
  EXPECT_EQ(r.attempts, 15);
  EXPECT_FALSE(r.last_error.has_value());
}

TEST_F(MailerTest, PermanentRefusalParksTheMailAsFailed) {
  int64_t id = enqueue("nobody@example.net", "body", kStart);
  backend_.script.push_back(permanent("Failed sending data to the peer (SMTP reply 550)"));
  EXPECT_EQ(deliver(), 0);
  store::Mail r = row(id);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_error, "Failed sending data to the peer (SMTP reply 550)");

  clock_.advance(7200);
  EXPECT_EQ(deliver(), 0);
  EXPECT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(until_next(), std::nullopt);
  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(counts->pending, 0);
}

TEST_F(MailerTest, MailNotYetDueIsLeftAlone) {
  int64_t later = enqueue("carol@example.com", "body", kStart + 100);
  EXPECT_EQ(deliver(), 0);
  EXPECT_TRUE(backend_.delivered.empty());
  store::Mail r = row(later);
  EXPECT_EQ(r.status, "pending");
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.next_attempt_at, kStart + 100);
  EXPECT_EQ(until_next(), 100);

  clock_.advance(100);
  EXPECT_EQ(deliver(), 1);
}

TEST_F(MailerTest, OutcomesApplyToTheirOwnRowsInDueOrder) {
  int64_t a = enqueue("a@one.example", "a", kStart);
  int64_t b = enqueue("b@two.example", "b", kStart);
  int64_t c = enqueue("c@three.example", "c", kStart);
  backend_.script = {Delivery{}, retry("try later (SMTP reply 451)"), permanent("no (550)")};
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 3u);
  EXPECT_EQ(backend_.delivered[0].id, a);
  EXPECT_EQ(backend_.delivered[1].id, b);
  EXPECT_EQ(backend_.delivered[2].id, c);
  EXPECT_EQ(row(a).status, "sent");
  EXPECT_EQ(row(b).status, "pending");
  EXPECT_EQ(row(b).next_attempt_at, kStart + 1);
  EXPECT_EQ(row(c).status, "failed");
}

TEST_F(MailerTest, DeliversAtMostMax) {
  for (int i = 0; i < 5; ++i) enqueue("x@example.com", "body", kStart);
  EXPECT_EQ(deliver(2), 2);
  EXPECT_EQ(deliver(2), 2);
  EXPECT_EQ(deliver(2), 1);
  EXPECT_EQ(backend_.delivered.size(), 5u);
}

TEST_F(MailerTest, ShouldStopIsPolledBetweenMessages) {
  int64_t first = enqueue("a@example.com", "a", kStart);
  int64_t second = enqueue("b@example.com", "b", kStart);
  int64_t third = enqueue("c@example.com", "c", kStart);
  volatile bool stop = false;
  // Raised during the first delivery: that one completes, no other starts.
  backend_.on_deliver = [&] { stop = true; };
  EXPECT_EQ(deliver(100, &stop), 1);
  EXPECT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(row(first).status, "sent");
  EXPECT_EQ(row(second).status, "pending");
  EXPECT_EQ(row(second).attempts, 0);
  EXPECT_EQ(row(third).attempts, 0);

  // Already stopped: nothing is attempted.
  EXPECT_EQ(deliver(100, &stop), 0);
  EXPECT_EQ(backend_.delivered.size(), 1u);

  stop = false;
  backend_.on_deliver = nullptr;
  EXPECT_EQ(deliver(100, &stop), 2);
}

}  // namespace
}  // namespace cpa::mail
