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

#include "auth/keys.h"
#include "core/clock.h"
#include "core/random.h"
#include "mail/backend.h"
#include "mail/outbox_seal.h"
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

const std::string kSealKey = auth::Keys::derive("mailer-test-secret-0123").outbox;

// Sealed, as the API queues it.
store::OutboxMail notice(const std::string& to, const std::string& subject,
                         const std::string& body) {
  SystemRng rng;
  auto sealed = sealed_mail(kSealKey, rng, to, Text{subject, body});
  EXPECT_TRUE(sealed.ok());
  return sealed.ok() ? *sealed : store::OutboxMail{};
}

constexpr int kMaxWrongGuesses = 5;

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
    mailer_ = std::make_unique<Mailer>(
        *store_, backend_, clock_,
        MailerOptions{.from = kFrom, .seal_key = kSealKey, .code_max_wrong_guesses = kMaxWrongGuesses});
  }

  void TearDown() override {
    mailer_.reset();
    store_.reset();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  int64_t enqueue(const std::string& to, const std::string& body, int64_t at) {
    Status st =
        store_->write([&] { return store_->enqueue_mail(notice(to, "Your PIN reset code", body), at); });
    EXPECT_TRUE(st.ok()) << st.reason();
    auto rows = store_->list_mail(store::MailFilter::kAll, 1);  // newest first
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? rows->front().id : 0;
  }

  // A user with a live code for `purpose`, and a code mail carrying it.
  int64_t enqueue_code(const std::string& to, const std::string& hash, int64_t at,
                       const std::string& purpose = "email_verification") {
    int64_t uid = user_id(to);
    store::Code code;
    code.user_id = uid;
    code.purpose = purpose;
    code.code_hash = hash;
    code.created_at = at;
    code.expires_at = at + 600;
    Status st = store_->write([&] {
      CPA_RETURN_IF_ERROR(store_->put_code(code));
      store::OutboxMail m = notice(to, "Confirm your email address", "Your code: " + hash);
      m.code = store::CodeRef{uid, purpose, hash};
      return store_->enqueue_mail(m, at);
    });
    EXPECT_TRUE(st.ok()) << st.reason();
    auto rows = store_->list_mail(store::MailFilter::kAll, 1);
    return rows.ok() && !rows->empty() ? rows->front().id : 0;
  }

  int64_t user_id(const std::string& email) {
    auto found = store_->user_by_email_key(email);
    if (found.ok() && found->has_value()) return (*found)->id;
    store::NewUser u;
    u.email = u.email_key = email;
    u.date_joined = kStart;
    auto id = store_->insert_user(u);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
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
    EXPECT_EQ(open_mail(kSealKey, r)->body, "body");  // kept for the next attempt
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

TEST_F(MailerTest, RowsAreSealedAtRestAndOpenedToSend) {
  int64_t id = enqueue("sealed@example.com", "Your code: 493817\n", kStart);
  store::Mail stored = row(id);
  EXPECT_TRUE(stored.sealed);
  EXPECT_EQ(stored.body.find("493817"), std::string::npos);
  EXPECT_EQ(stored.subject.find("PIN"), std::string::npos);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(backend_.delivered[0].subject, "Your PIN reset code");
  EXPECT_EQ(backend_.delivered[0].body, "Your code: 493817\n");
}

TEST_F(MailerTest, APlainRowFromTheVersionBeforeIsStillDelivered) {
  ASSERT_TRUE(store_->write([&] {
                      return store_->enqueue_mail(
                          {.recipient = "old@example.com", .subject = "Confirm", .body = "Code 1"},
                          kStart);
                    }).ok());
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(backend_.delivered[0].subject, "Confirm");
  EXPECT_EQ(backend_.delivered[0].body, "Code 1");
}

TEST_F(MailerTest, ARowThatDoesNotOpenIsFailedNeverSentAndTheRestGoes) {
  SystemRng rng;
  auto foreign = sealed_mail(auth::Keys::derive("another-secret-key-0123").outbox, rng,
                             "foreign@example.com", Text{"Subject", "Body"});
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(store_->write([&] { return store_->enqueue_mail(*foreign, kStart); }).ok());
  int64_t bad = store_->list_mail(store::MailFilter::kAll, 1)->front().id;
  // A sealed body moved to another recipient's row does not open either.
  int64_t moved = enqueue("victim@example.com", "body", kStart);
  int64_t good = enqueue("good@example.com", "body", kStart);
  {
    store::Mail victim = row(moved);
    store::OutboxMail swapped{.recipient = "attacker@example.com",
                              .subject = victim.subject,
                              .body = victim.body,
                              .sealed = true};
    ASSERT_TRUE(store_->write([&] { return store_->enqueue_mail(swapped, kStart); }).ok());
  }
  int64_t stolen = store_->list_mail(store::MailFilter::kAll, 1)->front().id;
  EXPECT_EQ(deliver(), 2);
  ASSERT_EQ(backend_.delivered.size(), 2u);
  EXPECT_EQ(backend_.delivered[0].id, moved);
  EXPECT_EQ(backend_.delivered[1].id, good);
  for (int64_t id : {bad, stolen}) {
    store::Mail r = row(id);
    EXPECT_EQ(r.status, "failed") << id;
    EXPECT_EQ(r.attempts, 0);
    ASSERT_TRUE(r.last_error.has_value());
    EXPECT_NE(r.last_error->find("does not open"), std::string::npos) << *r.last_error;
  }
}

TEST_F(MailerTest, ACodeMailGoesWhileItsCodeIsLive) {
  int64_t id = enqueue_code("live@example.com", "hash-live", kStart);
  clock_.advance(599);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(backend_.delivered[0].body, "Your code: hash-live");
  EXPECT_EQ(row(id).status, "sent");
}

TEST_F(MailerTest, AReplacedCodeIsNeverMailedAndItsMailExpires) {
  int64_t old_mail = enqueue_code("twice@example.com", "first", kStart);
  int64_t new_mail = enqueue_code("twice@example.com", "second", kStart + 1);
  clock_.advance(2);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(backend_.delivered[0].id, new_mail);
  store::Mail dead = row(old_mail);
  EXPECT_EQ(dead.status, "expired");
  EXPECT_EQ(dead.body, "");
  EXPECT_EQ(dead.attempts, 0);
  EXPECT_EQ(row(new_mail).status, "sent");
  EXPECT_EQ(until_next(), std::nullopt);
}

TEST_F(MailerTest, AnExpiredUsedBurntOrOrphanedCodeIsNotMailed) {
  int64_t expired = enqueue_code("expired@example.com", "e", kStart);
  int64_t used = enqueue_code("used@example.com", "u", kStart + 600);
  int64_t burnt = enqueue_code("burnt@example.com", "b", kStart + 600);
  int64_t orphan = enqueue_code("deleted@example.com", "d", kStart + 600);
  int64_t live = enqueue_code("live@example.com", "l", kStart + 600);
  ASSERT_TRUE(store_->write([&] {
                      CPA_RETURN_IF_ERROR(store_->mark_code_used(user_id("used@example.com"),
                                                                 "email_verification", kStart));
                      CPA_RETURN_IF_ERROR(store_->set_code_attempts(user_id("burnt@example.com"),
                                                                    "email_verification",
                                                                    kMaxWrongGuesses));
                      auto gone = store_->user_by_id(user_id("deleted@example.com"));
                      CPA_RETURN_IF_ERROR(gone.status_or_ok());
                      return store_->delete_user(**gone);
                    }).ok());
  clock_.advance(600);  // the first code's last second is gone
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 1u);
  EXPECT_EQ(backend_.delivered[0].id, live);
  for (int64_t id : {expired, used, burnt, orphan}) EXPECT_EQ(row(id).status, "expired") << id;
}

TEST_F(MailerTest, ACodeThatDiesBetweenRetriesIsNotRetried) {
  int64_t id = enqueue_code("retry@example.com", "first", kStart);
  backend_.script.push_back(retry("try later (SMTP reply 451)"));
  EXPECT_EQ(deliver(), 0);
  EXPECT_EQ(row(id).attempts, 1);
  EXPECT_EQ(row(id).status, "pending");
  // A new code is asked for while the relay refuses.
  int64_t second = enqueue_code("retry@example.com", "second", kStart);
  clock_.advance(1);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_.delivered.size(), 2u);
  EXPECT_EQ(backend_.delivered[1].id, second);
  EXPECT_EQ(row(id).status, "expired");
  EXPECT_EQ(row(id).attempts, 1);
}

TEST_F(MailerTest, CodeMailsGoBeforeNotices) {
  int64_t notice_first = enqueue("n1@example.com", "notice", kStart);
  int64_t code = enqueue_code("c@example.com", "h", kStart + 1);
  int64_t notice_second = enqueue("n2@example.com", "notice", kStart);
  clock_.advance(1);
  EXPECT_EQ(deliver(), 3);
  ASSERT_EQ(backend_.delivered.size(), 3u);
  EXPECT_EQ(backend_.delivered[0].id, code);
  EXPECT_EQ(backend_.delivered[1].id, notice_first);
  EXPECT_EQ(backend_.delivered[2].id, notice_second);
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
