// The Mailer over a real (temporary) store, SQLite or PostgreSQL (see
// unit/test_database.h); only the delivery backend is scripted, since it is
// the seam to the outside world.
#include "mail/mailer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/keys.h"
#include "core/clock.h"
#include "core/random.h"
#include "mail/backend.h"
#include "mail/outbox_seal.h"
#include "store/store.h"
#include "unit/scratch_dir.h"
#include "unit/test_database.h"

namespace cpa::mail {
namespace {

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
  cpa::testing::ScratchDir scratch_{"cpa-mailer"};  // first: removed last
  cpa::testing::TestDatabase database_{scratch_.path()};

  void SetUp() override {
    Status st = store::Store::migrate(database_.location(), 5000);
    ASSERT_TRUE(st.ok()) << st.reason();
    auto opened = store::Store::open(database_.location(), 5000);
    ASSERT_TRUE(opened.ok()) << opened.status().reason();
    store_ = std::move(opened.value());
    mailer_ = make_mailer(one_backend());
  }

  std::vector<std::unique_ptr<Backend>> one_backend() {
    auto scripted = std::make_unique<ScriptedBackend>();
    backend_ = scripted.get();
    std::vector<std::unique_ptr<Backend>> backends;
    backends.push_back(std::move(scripted));
    return backends;
  }

  std::unique_ptr<Mailer> make_mailer(std::vector<std::unique_ptr<Backend>> backends) {
    return std::make_unique<Mailer>(
        *store_, std::move(backends), clock_,
        MailerOptions{
            .from = kFrom, .seal_key = kSealKey, .code_max_wrong_guesses = kMaxWrongGuesses});
  }

  void TearDown() override {
    mailer_.reset();
    store_.reset();
  }

  int64_t enqueue(const std::string& to, const std::string& body, int64_t at) {
    Status st = store_->write(
        [&] { return store_->enqueue_mail(notice(to, "Your PIN reset code", body), at); });
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

  // Hands out everything due and waits until no message is in hand; returns
  // how many were sent.
  int64_t deliver() { return deliver_with(*mailer_); }

  static int64_t deliver_with(Mailer& mailer) {
    const int64_t before = mailer.stats().sent;
    Status st = mailer.pump();
    while (st.ok() && mailer.busy()) {
      struct pollfd p{mailer.ready_fd(), POLLIN, 0};
      EXPECT_EQ(poll(&p, 1, 10000), 1) << "no sender finished within 10 s";
      st = mailer.pump();
    }
    EXPECT_TRUE(st.ok()) << st.reason();
    return mailer.stats().sent - before;
  }

  // A mailer over a store of its own that gives up on a held lock at once,
  // as it gives up on a PostgreSQL that is restarting; while the relay has
  // the message, `other` takes the write lock.
  struct Impatient {
    std::unique_ptr<store::Store> store;
    ScriptedBackend* backend = nullptr;
    std::unique_ptr<Mailer> mailer;  // last: destroyed first
  };
  Impatient impatient_mailer(cpa::testing::RawDb& other) {
    Impatient made;
    auto opened = store::Store::open(database_.location(), 50);
    EXPECT_TRUE(opened.ok()) << opened.status().reason();
    if (!opened.ok()) return made;
    made.store = std::move(opened.value());
    auto scripted = std::make_unique<ScriptedBackend>();
    made.backend = scripted.get();
    made.backend->on_deliver = [&other] { EXPECT_EQ(other.hold_write_lock(), 0); };
    std::vector<std::unique_ptr<Backend>> backends;
    backends.push_back(std::move(scripted));
    made.mailer = std::make_unique<Mailer>(
        *made.store, std::move(backends), clock_,
        MailerOptions{
            .from = kFrom, .seal_key = kSealKey, .code_max_wrong_guesses = kMaxWrongGuesses});
    return made;
  }

  std::optional<int64_t> until_next() {
    auto r = mailer_->seconds_until_next();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }

  std::unique_ptr<store::Store> store_;
  ScriptedBackend* backend_ = nullptr;  // owned by mailer_
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

  ASSERT_EQ(backend_->delivered.size(), 1u);
  const Message& m = backend_->delivered[0];
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
  EXPECT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(until_next(), std::nullopt);
}

TEST_F(MailerTest, RetriesFollowTheBackoffUpToTheCap) {
  int64_t id = enqueue("bob@example.org", "body", kStart);
  int64_t expected_wait = 1;
  for (int attempt = 1; attempt <= 14; ++attempt) {
    backend_->script.push_back(retry("Couldn't connect to server"));
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
    EXPECT_EQ(backend_->delivered.size(), static_cast<size_t>(attempt));

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
  backend_->script.push_back(permanent("Failed sending data to the peer (SMTP reply 550)"));
  EXPECT_EQ(deliver(), 0);
  store::Mail r = row(id);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_error, "Failed sending data to the peer (SMTP reply 550)");

  clock_.advance(7200);
  EXPECT_EQ(deliver(), 0);
  EXPECT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(until_next(), std::nullopt);
  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(counts->pending, 0);
}

TEST_F(MailerTest, MailNotYetDueIsLeftAlone) {
  int64_t later = enqueue("carol@example.com", "body", kStart + 100);
  EXPECT_EQ(deliver(), 0);
  EXPECT_TRUE(backend_->delivered.empty());
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
  backend_->script = {Delivery{}, retry("try later (SMTP reply 451)"), permanent("no (550)")};
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_->delivered.size(), 3u);
  EXPECT_EQ(backend_->delivered[0].id, a);
  EXPECT_EQ(backend_->delivered[1].id, b);
  EXPECT_EQ(backend_->delivered[2].id, c);
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
  ASSERT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(backend_->delivered[0].subject, "Your PIN reset code");
  EXPECT_EQ(backend_->delivered[0].body, "Your code: 493817\n");
}

TEST_F(MailerTest, APlainRowFromTheVersionBeforeIsStillDelivered) {
  ASSERT_TRUE(store_->write([&] {
                      return store_->enqueue_mail(
                          {.recipient = "old@example.com", .subject = "Confirm", .body = "Code 1"},
                          kStart);
                    }).ok());
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(backend_->delivered[0].subject, "Confirm");
  EXPECT_EQ(backend_->delivered[0].body, "Code 1");
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
  ASSERT_EQ(backend_->delivered.size(), 2u);
  EXPECT_EQ(backend_->delivered[0].id, moved);
  EXPECT_EQ(backend_->delivered[1].id, good);
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
  ASSERT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(backend_->delivered[0].body, "Your code: hash-live");
  EXPECT_EQ(row(id).status, "sent");
}

TEST_F(MailerTest, AReplacedCodeIsNeverMailedAndItsMailExpires) {
  int64_t old_mail = enqueue_code("twice@example.com", "first", kStart);
  int64_t new_mail = enqueue_code("twice@example.com", "second", kStart + 1);
  clock_.advance(2);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(backend_->delivered[0].id, new_mail);
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
  ASSERT_EQ(backend_->delivered.size(), 1u);
  EXPECT_EQ(backend_->delivered[0].id, live);
  for (int64_t id : {expired, used, burnt, orphan}) EXPECT_EQ(row(id).status, "expired") << id;
}

TEST_F(MailerTest, ACodeThatDiesBetweenRetriesIsNotRetried) {
  int64_t id = enqueue_code("retry@example.com", "first", kStart);
  backend_->script.push_back(retry("try later (SMTP reply 451)"));
  EXPECT_EQ(deliver(), 0);
  EXPECT_EQ(row(id).attempts, 1);
  EXPECT_EQ(row(id).status, "pending");
  // A new code is asked for while the relay refuses.
  int64_t second = enqueue_code("retry@example.com", "second", kStart);
  clock_.advance(1);
  EXPECT_EQ(deliver(), 1);
  ASSERT_EQ(backend_->delivered.size(), 2u);
  EXPECT_EQ(backend_->delivered[1].id, second);
  EXPECT_EQ(row(id).status, "expired");
  EXPECT_EQ(row(id).attempts, 1);
}

TEST_F(MailerTest, CodeMailsGoBeforeNotices) {
  int64_t notice_first = enqueue("n1@example.com", "notice", kStart);
  int64_t code = enqueue_code("c@example.com", "h", kStart + 1);
  int64_t notice_second = enqueue("n2@example.com", "notice", kStart);
  clock_.advance(1);
  EXPECT_EQ(deliver(), 3);
  ASSERT_EQ(backend_->delivered.size(), 3u);
  EXPECT_EQ(backend_->delivered[0].id, code);
  EXPECT_EQ(backend_->delivered[1].id, notice_first);
  EXPECT_EQ(backend_->delivered[2].id, notice_second);
}

// What the gated backends share: deliveries wait until the gate opens (or,
// with a barrier, until that many are in progress at once).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int barrier = 0;  // the first `barrier` deliveries wait until all are in progress
  int entered = 0;
  int inside = 0;
  int max_inside = 0;
  std::vector<int64_t> ids;  // in the order deliveries began

  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered >= n; });
  }
};

class GatedBackend final : public Backend {
 public:
  explicit GatedBackend(Gate& gate) : gate_(gate) {}
  Delivery deliver(const Message& message) override {
    std::unique_lock<std::mutex> lock(gate_.mu);
    ++gate_.entered;
    ++gate_.inside;
    gate_.max_inside = std::max(gate_.max_inside, gate_.inside);
    gate_.ids.push_back(message.id);
    ++delivered;
    gate_.cv.notify_all();
    const bool held = gate_.barrier == 0 || gate_.entered <= gate_.barrier;
    if (held) {
      gate_.cv.wait_for(lock, std::chrono::seconds(10), [&] {
        return gate_.open || (gate_.barrier > 0 && gate_.entered >= gate_.barrier);
      });
    }
    --gate_.inside;
    return Delivery{};
  }
  int delivered = 0;  // under gate_.mu

 private:
  Gate& gate_;
};

std::vector<std::unique_ptr<Backend>> gated(Gate& gate, int n, std::vector<GatedBackend*>* out) {
  std::vector<std::unique_ptr<Backend>> backends;
  for (int i = 0; i < n; ++i) {
    auto b = std::make_unique<GatedBackend>(gate);
    if (out) out->push_back(b.get());
    backends.push_back(std::move(b));
  }
  return backends;
}

TEST_F(MailerTest, EachRowGoesToOneSenderAndEverySenderWorksAtOnce) {
  Gate gate;
  gate.barrier = 4;  // the first four wait for each other: all four run at once
  std::vector<GatedBackend*> backends;
  mailer_ = make_mailer(gated(gate, 4, &backends));
  std::set<int64_t> ids;
  for (int i = 0; i < 200; ++i)
    ids.insert(enqueue("n" + std::to_string(i) + "@example.com", "b", kStart));
  EXPECT_EQ(deliver(), 200);
  std::lock_guard<std::mutex> lock(gate.mu);
  EXPECT_EQ(gate.max_inside, 4);
  ASSERT_EQ(gate.ids.size(), 200u);
  EXPECT_EQ(std::set<int64_t>(gate.ids.begin(), gate.ids.end()), ids) << "a row went twice";
  for (GatedBackend* b : backends) EXPECT_GT(b->delivered, 0);
  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  for (int64_t id : ids) EXPECT_EQ(row(id).status, "sent");
}

TEST_F(MailerTest, ARowInHandIsNotHandedOutAgain) {
  Gate gate;
  mailer_ = make_mailer(gated(gate, 2, nullptr));
  int64_t a = enqueue("a@example.com", "a", kStart);
  ASSERT_TRUE(mailer_->pump().ok());
  ASSERT_TRUE(gate.wait_entered(1));
  // Pumped again and again while it is in hand: the idle sender gets nothing.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(mailer_->pump().ok());
  int64_t b = enqueue("b@example.com", "b", kStart);
  ASSERT_TRUE(mailer_->pump().ok());
  ASSERT_TRUE(gate.wait_entered(2));
  gate.release();
  EXPECT_EQ(deliver(), 2);
  std::lock_guard<std::mutex> lock(gate.mu);
  EXPECT_EQ(gate.ids, (std::vector<int64_t>{a, b}));
}

TEST_F(MailerTest, TheCodeIsCheckedWhenTheRowsTurnComes) {
  Gate gate;
  mailer_ = make_mailer(gated(gate, 1, nullptr));
  int64_t notice_in_hand = enqueue("first@example.com", "notice", kStart);
  ASSERT_TRUE(mailer_->pump().ok());
  ASSERT_TRUE(gate.wait_entered(1));
  // Queued, then replaced, while the only sender is busy.
  int64_t replaced = enqueue_code("code@example.com", "first", kStart);
  int64_t live = enqueue_code("code@example.com", "second", kStart);
  gate.release();
  EXPECT_EQ(deliver(), 2);
  std::lock_guard<std::mutex> lock(gate.mu);
  EXPECT_EQ(gate.ids, (std::vector<int64_t>{notice_in_hand, live}));
  EXPECT_EQ(row(replaced).status, "expired");
}

TEST_F(MailerTest, FinishLetsTheMessagesInHandEndRecordsThemAndStartsNoOther) {
  Gate gate;
  mailer_ = make_mailer(gated(gate, 2, nullptr));
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(enqueue("s" + std::to_string(i) + "@example.com", "b", kStart));
  ASSERT_TRUE(mailer_->pump().ok());
  ASSERT_TRUE(gate.wait_entered(2));
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gate.release();
  });
  Status st = mailer_->finish();
  opener.join();
  ASSERT_TRUE(st.ok()) << st.reason();
  EXPECT_FALSE(mailer_->busy());
  EXPECT_EQ(mailer_->stats().sent, 2);
  EXPECT_EQ(row(ids[0]).status, "sent");
  EXPECT_EQ(row(ids[1]).status, "sent");
  for (size_t i = 2; i < ids.size(); ++i) {
    EXPECT_EQ(row(ids[i]).status, "pending");
    EXPECT_EQ(row(ids[i]).attempts, 0);
  }
  // Stopped: nothing more goes out.
  ASSERT_TRUE(mailer_->pump().ok());
  EXPECT_FALSE(mailer_->busy());
  std::lock_guard<std::mutex> lock(gate.mu);
  EXPECT_EQ(gate.entered, 2);
}

TEST_F(MailerTest, AnOutcomeTheDatabaseCannotTakeYetIsKeptAndRecordedOnceItCan) {
  cpa::testing::RawDb other(database_.location());
  Impatient impatient = impatient_mailer(other);
  Mailer& mailer = *impatient.mailer;
  int64_t id = enqueue("held@example.com", "b", kStart);

  ASSERT_TRUE(mailer.pump().ok());
  struct pollfd p{mailer.ready_fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "the sender did not finish within 10 s";
  clock_.advance(5);
  for (int i = 0; i < 3; ++i) {
    Status st = mailer.pump();
    EXPECT_EQ(st.kind(), Status::Kind::kUnavailable) << st.reason();
    clock_.advance(100);  // past the lease, yet the row in hand is not sent again
  }
  EXPECT_EQ(mailer.stats().sent, 0);
  EXPECT_EQ(row(id).status, "pending");

  ASSERT_EQ(other.exec("ROLLBACK"), 0);
  ASSERT_TRUE(mailer.pump().ok());
  EXPECT_EQ(mailer.stats().sent, 1);
  store::Mail sent = row(id);
  EXPECT_EQ(sent.status, "sent");
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(sent.sent_at, std::optional<int64_t>(kStart + 5)) << "the delivery's time";
  EXPECT_FALSE(mailer.busy());
  EXPECT_EQ(impatient.backend->delivered.size(), 1u) << "delivered again";
}

TEST_F(MailerTest, AStopWaitsAMomentForADatabaseThatIsAway) {
  cpa::testing::RawDb other(database_.location());
  Impatient impatient = impatient_mailer(other);
  Mailer& mailer = *impatient.mailer;
  int64_t first = enqueue("first@example.com", "b", kStart);
  ASSERT_TRUE(mailer.pump().ok());
  struct pollfd p{mailer.ready_fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "the sender did not finish within 10 s";
  // Back within the stop's wait: recorded.
  std::thread back([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    other.exec("ROLLBACK");
  });
  Status st = mailer.finish();
  back.join();
  EXPECT_TRUE(st.ok()) << st.reason();
  EXPECT_EQ(row(first).status, "sent");
  EXPECT_EQ(mailer.stats().sent, 1);
}

TEST_F(MailerTest, AStopGivesUpAnOutcomeTheDatabaseNeverTakes) {
  cpa::testing::RawDb other(database_.location());
  Impatient impatient = impatient_mailer(other);
  Mailer& mailer = *impatient.mailer;
  int64_t id = enqueue("lost@example.com", "b", kStart);
  ASSERT_TRUE(mailer.pump().ok());
  Status st = mailer.finish();
  EXPECT_EQ(st.kind(), Status::Kind::kUnavailable) << st.reason();
  EXPECT_FALSE(mailer.busy());
  EXPECT_EQ(mailer.stats().sent, 0);
  ASSERT_EQ(other.exec("ROLLBACK"), 0);
  // Still leased to the stopped mailer: it goes again when the lease ends.
  store::Mail m = row(id);
  EXPECT_EQ(m.status, "pending");
  EXPECT_EQ(m.attempts, 0);
  EXPECT_GT(m.next_attempt_at, kStart);
}

}  // namespace
}  // namespace cpa::mail
