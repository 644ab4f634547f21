#include "store/store.h"

#include "unit/store/schema_v1.h"
#include "unit/store/schema_v2.h"
#include "unit/scratch_dir.h"
#include "unit/test_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cpa::store {
namespace {

namespace fs = std::filesystem;
using cpa::testing::RawDb;

OutboxMail notice(const std::string& to, const std::string& subject, const std::string& body) {
  return OutboxMail{.recipient = to, .subject = subject, .body = body};
}


class StoreTest : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-store"};  // first: removed last
  cpa::testing::TestDatabase database_{scratch_.path()};

  void SetUp() override {
    dir_ = scratch_.path();
    path_ = database_.location();  // the SQLite file, or the test's PostgreSQL schema
    Status st = Store::migrate(path_, 5000);
    ASSERT_TRUE(st.ok()) << st.reason();
    store_ = open_store(5000);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
  }

  // A database as a version-1 binary left it (schema and user_version), with
  // `rows` inserted.
  static void make_version_one(const std::string& path, const char* rows = "") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const bool made = sqlite3_exec(db, kSchemaVersion1, nullptr, nullptr, nullptr) == SQLITE_OK &&
                      sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK;
    EXPECT_TRUE(made) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // A database as a version-2 binary (0.9.0) left it, with `rows` inserted.
  static void make_version_two(const std::string& path, const char* rows = "") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const bool made = sqlite3_exec(db, kSchemaVersion2, nullptr, nullptr, nullptr) == SQLITE_OK &&
                      sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK;
    EXPECT_TRUE(made) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::unique_ptr<Store> open_store(int busy_ms) {
    auto opened = Store::open(path_, busy_ms);
    EXPECT_TRUE(opened.ok());
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  static NewUser new_user(const std::string& email, int64_t joined = 1000) {
    NewUser u;
    u.email = email;
    u.email_key = email;
    for (char& c : u.email_key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    u.date_joined = joined;
    return u;
  }

  int64_t add_user(const std::string& email, int64_t joined = 1000) {
    Result<int64_t> id = store_->insert_user(new_user(email, joined));
    EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.status().reason());
    return id.ok() ? *id : 0;
  }

  User get_user(int64_t id) {
    Result<std::optional<User>> u = store_->user_by_id(id);
    EXPECT_TRUE(u.ok());
    EXPECT_TRUE(u.ok() && u->has_value()) << "no user " << id;
    return u.ok() && u->has_value() ? **u : User();
  }

  static Token token(const std::string& jti, int64_t user_id, const std::string& type,
                     const std::string& family, int64_t issued = 1000, int64_t expires = 2000) {
    Token t;
    t.jti = jti;
    t.user_id = user_id;
    t.token_type = type;
    t.family = family;
    t.issued_at = issued;
    t.expires_at = expires;
    return t;
  }

  std::optional<Token> get_token(const std::string& jti) {
    auto t = store_->token_with_user(jti);
    EXPECT_TRUE(t.ok());
    if (!t.ok() || !t->has_value()) return std::nullopt;
    return (*t)->first;
  }

  static Session session(const std::string& id, int64_t user_id, const std::string& refresh_jti,
                         int64_t created, int64_t used, const std::string& ip = "192.0.2.1",
                         const std::string& user_agent = "agent") {
    Session s;
    s.id = id;
    s.user_id = user_id;
    s.refresh_jti = refresh_jti;
    s.created_at = created;
    s.last_used_at = used;
    s.ip = ip;
    s.user_agent = user_agent;
    return s;
  }

  // A session as token/obtain/ makes it: its refresh and access token, then
  // the session row. Tokens expire at `expires`.
  void login(const std::string& family, int64_t user_id, int64_t at, int64_t expires = 100000) {
    ASSERT_TRUE(store_->insert_token(token(family, user_id, "refresh", family, at, expires)).ok());
    ASSERT_TRUE(
        store_->insert_token(token(family + "-a", user_id, "access", family, at, expires)).ok());
    ASSERT_TRUE(store_->touch_session(session(family, user_id, family, at, at)).ok());
  }

  std::vector<std::string> live_ids(int64_t user_id, int64_t now, int64_t offset = 0,
                                     int64_t limit = 100) {
    auto sessions = store_->live_sessions(user_id, now, offset, limit);
    EXPECT_TRUE(sessions.ok());
    std::vector<std::string> ids;
    if (sessions.ok())
      for (const Session& s : *sessions) ids.push_back(s.id);
    return ids;
  }

  static Code code(int64_t user_id, const std::string& purpose, const std::string& hash,
                   int64_t created = 1000) {
    Code c;
    c.user_id = user_id;
    c.purpose = purpose;
    c.code_hash = hash;
    c.created_at = created;
    c.expires_at = created + 600;
    return c;
  }

  Status enqueue(const std::string& to, int64_t now) {
    return store_->write(
        [&] { return store_->enqueue_mail(notice(to, "Subject", "Body 123456"), now); });
  }

  std::vector<Mail> list(MailFilter filter, int64_t limit = 100) {
    Result<std::vector<Mail>> m = store_->list_mail(filter, limit);
    EXPECT_TRUE(m.ok());
    return m.ok() ? *m : std::vector<Mail>();
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

// SQLite's own behaviour (its file, PRAGMAs, the WAL): the SQLite entries
// alone run these (the pg entry's filter, tests/CMakeLists.txt, names
// StoreTest, not SqliteStoreTest); run on PostgreSQL, they fail.
class SqliteStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(cpa::testing::postgresql_server(), nullptr)
        << "a SQLite test: run it without CPA_TEST_POSTGRESQL";
    StoreTest::SetUp();
  }
};

// PostgreSQL's own behaviour: the pg entry alone runs these
// (CPA_PG_ONLY_UNIT_SUITES, tests/CMakeLists.txt); without a server they fail.
class PgStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_NE(cpa::testing::postgresql_server(), nullptr)
        << "a PostgreSQL test: CPA_TEST_POSTGRESQL names no server (tests/pg/postgres.py)";
    StoreTest::SetUp();
  }
};

// --- migrate and open

TEST_F(StoreTest, MigrateSetsTheSchemaVersionAndIsIdempotent) {
  EXPECT_GE(Store::schema_version(), 1);
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.schema_version(), Store::schema_version());
  }
  int64_t id = add_user("keep@example.com");
  ASSERT_TRUE(Store::migrate(path_, 5000).ok());
  ASSERT_TRUE(Store::migrate(path_, 5000).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.schema_version(), Store::schema_version());
  EXPECT_EQ(get_user(id).email, "keep@example.com");
}

TEST_F(StoreTest, MigrateOfACurrentSchemaNeedsNoWriteLock) {
  RawDb other(path_);
  ASSERT_EQ(other.hold_write_lock(), SQLITE_OK);
  auto start = std::chrono::steady_clock::now();
  Status st = Store::migrate(path_, 100);
  EXPECT_TRUE(st.ok()) << st.reason();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));
  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
}

TEST_F(SqliteStoreTest, MigrateOfAnOldSchemaWaitsForTheLockAndIsUnavailable) {
  std::string fresh = (dir_ / "fresh.db").string();
  {
    // An empty database (user_version 0) that someone holds the write lock on.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(fresh.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  RawDb other(fresh);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  Status st = Store::migrate(fresh, 100);
  EXPECT_EQ(st.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(st.http_status(), 503);
  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE(Store::migrate(fresh, 100).ok());
  EXPECT_EQ(other.scalar("PRAGMA user_version"), Store::schema_version());
}

TEST_F(StoreTest, MigrateRefusesANewerSchema) {
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.set_schema_version(99), SQLITE_OK);
  }
  Status st = Store::migrate(path_, 5000);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), Status::Kind::kInternal);
  RawDb raw(path_);
  EXPECT_EQ(raw.schema_version(), 99);
}

// A database a version-1 binary made is brought forward in place: its rows
// stay, and what the new version adds works on it.
TEST_F(StoreTest, MigrateUpgradesAVersionOneDatabaseKeepingItsRows) {
  std::string old_path = (dir_ / "v1.db").string();
  ASSERT_NO_FATAL_FAILURE(make_version_one(old_path,
      "INSERT INTO users (email, email_key, date_joined, is_active) "
      "VALUES ('Old@example.com', 'old@example.com', 1000, 1);"
      "INSERT INTO codes (user_id, purpose, code_hash, created_at, expires_at) "
      "VALUES (1, 'password_recovery', 'ab', 1000, 2000);"
      "INSERT INTO outbox (recipient, subject, body, next_attempt_at, created_at) "
      "VALUES ('old@example.com', 'Subject', 'Body', 0, 1000);"));
  Status st = Store::migrate(old_path, 5000);
  ASSERT_TRUE(st.ok()) << st.reason();
  EXPECT_EQ(RawDb(old_path).scalar("PRAGMA user_version"), Store::schema_version());
  auto opened = Store::open(old_path, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  auto user = store.user_by_email_key("old@example.com");
  ASSERT_TRUE(user.ok() && user->has_value());
  EXPECT_EQ((*user)->email, "Old@example.com");
  EXPECT_TRUE(store.code_for(1, "password_recovery").ok() &&
              store.code_for(1, "password_recovery")->has_value());
  ASSERT_TRUE(store.write([&] { return store.mark_email_verified(1, 1500, "192.0.2.1"); }).ok());
  EXPECT_EQ(*store.verified_ip(1), "192.0.2.1");
  Code decoy;
  decoy.purpose = "password_recovery";
  decoy.code_hash = "cd";
  decoy.created_at = 1500;
  decoy.expires_at = 2100;
  ASSERT_TRUE(store.write([&] { return store.put_code_decoy("ghost@example.com", decoy); }).ok());
  auto mail = store.due_mail(2000, 10);
  ASSERT_TRUE(mail.ok());
  ASSERT_EQ(mail->size(), 1u);
  EXPECT_EQ((*mail)[0].body, "Body");
  // And migrating again changes nothing.
  EXPECT_TRUE(Store::migrate(old_path, 5000).ok());
}

// Version 2 adds sessions: every family with an unrevoked refresh token
// becomes one, so that logins made before the upgrade are listed; and a
// rotated token of a family revoked since is no longer "merely rotated".
// Version 3 then rebuilds tokens: a version-1 database goes through both.
TEST_F(StoreTest, MigrateUpgradesAVersionOneDatabaseWithASessionPerLiveFamily) {
  std::string old_path = (dir_ / "v1-tokens.db").string();
          // live: obtained at 1100, refreshed at 1500 and 1900
          // logged out after one refresh: its rotated token must not count as merely rotated
          // another user's
  ASSERT_NO_FATAL_FAILURE(make_version_one(old_path,
      "INSERT INTO users (email, email_key, date_joined, is_active) "
      "VALUES ('a@example.com', 'a@example.com', 1000, 1), "
      "('b@example.com', 'b@example.com', 1000, 1);"
      "INSERT INTO tokens (jti, user_id, token_type, family, issued_at, expires_at, "
      "revoked_at, rotated) VALUES "
      // live: obtained at 1100, refreshed at 1500 and 1900
      "('live', 1, 'refresh', 'live', 1100, 9000, 1500, 1),"
      "('live-a1', 1, 'access', 'live', 1100, 4100, NULL, 0),"
      "('live-r2', 1, 'refresh', 'live', 1500, 9400, 1900, 1),"
      "('live-a2', 1, 'access', 'live', 1500, 4500, NULL, 0),"
      "('live-r3', 1, 'refresh', 'live', 1900, 9800, NULL, 0),"
      "('live-a3', 1, 'access', 'live', 1900, 4900, NULL, 0),"
      // logged out after one refresh: its rotated token must not count as merely rotated
      "('out', 1, 'refresh', 'out', 1200, 9000, 1300, 1),"
      "('out-a1', 1, 'access', 'out', 1200, 4200, 1400, 0),"
      "('out-r2', 1, 'refresh', 'out', 1300, 9300, 1400, 0),"
      // another user's
      "('other', 2, 'refresh', 'other', 1250, 9000, NULL, 0);"));
  const char* kAllTokens =
      "SELECT jti, user_id, token_type, family, issued_at, expires_at, revoked_at, rotated "
      "FROM tokens ORDER BY jti";
  std::vector<std::string> before = RawDb(old_path).rows(kAllTokens);
  Status st = Store::migrate(old_path, 5000);
  ASSERT_TRUE(st.ok()) << st.reason();
  EXPECT_EQ(RawDb(old_path).scalar("PRAGMA user_version"), Store::schema_version());
  auto opened = Store::open(old_path, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;

  auto mine = store.live_sessions(1, 2000, 0, 100);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  const Session& s = (*mine)[0];
  EXPECT_EQ(s.id, "live");
  EXPECT_EQ(s.user_id, 1);
  EXPECT_EQ(s.refresh_jti, "live-r3");
  EXPECT_EQ(s.created_at, 1100);
  EXPECT_EQ(s.last_used_at, 1900);
  EXPECT_EQ(s.ip, "");
  EXPECT_EQ(s.user_agent, "");
  auto theirs = store.live_sessions(2, 2000, 0, 100);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].id, "other");
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM sessions"), 2);

  auto rotated = [&](const char* jti) {
    auto t = store.token_with_user(jti);
    return t.ok() && t->has_value() && (*t)->first.rotated;
  };
  EXPECT_TRUE(rotated("live"));  // its family is live: still merely rotated
  EXPECT_TRUE(rotated("live-r2"));
  EXPECT_FALSE(rotated("out"));  // its family was logged out
  EXPECT_EQ(store.token_with_user("out").value()->first.revoked_at, 1300);

  // tokens was rebuilt WITHOUT ROWID (issue 14): every row is kept as it was
  // but for `rotated` above, and the foreign key still cascades.
  std::vector<std::string> after = RawDb(old_path).rows(kAllTokens);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i].rfind("out|", 0) == 0) continue;  // its rotated flag was cleared
    EXPECT_EQ(after[i], before[i]);
  }
  EXPECT_EQ(RawDb(old_path).scalar("SELECT wr FROM pragma_table_list('tokens')"), 1);
  ASSERT_TRUE(store.write([&] { return store.delete_user(*store.user_by_id(2).value()); }).ok());
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM tokens WHERE user_id = 2"), 0);
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM tokens"), 9);

  // A refresh after the upgrade moves the backfilled session on.
  ASSERT_TRUE(store.write([&] {
    CPA_RETURN_IF_ERROR(store.insert_token(token("live-r4", 1, "refresh", "live", 2100, 9900)));
    return store.touch_session(session("live", 1, "live-r4", 2100, 2100));
  }).ok());
  auto moved = store.live_session(1, "live", 2200);
  ASSERT_TRUE(moved.ok() && moved->has_value());
  EXPECT_EQ((*moved)->created_at, 1100);
  EXPECT_EQ((*moved)->last_used_at, 2100);
  EXPECT_EQ((*moved)->ip, "192.0.2.1");
  EXPECT_TRUE(Store::migrate(old_path, 5000).ok());
}

// Version 3 rebuilds tokens (WITHOUT ROWID, one index): a database that
// 0.9.0 served keeps every token and every session as they were, its logins
// stay live and listed, and its tokens, whose jtis begin with their issue
// time rather than their expiry, are still pruned once expired and only then.
TEST_F(StoreTest, MigrateUpgradesAVersionTwoDatabaseKeepingItsTokensAndSessions) {
  std::string old_path = (dir_ / "v2.db").string();
  // jtis as 0.9.0 made them: the issue time (8 hex digits), then 96 random
  // bits. 0x44c = 1100, 0x5dc = 1500, 0x3e8 = 1000, 0x4b0 = 1200.
  ASSERT_NO_FATAL_FAILURE(make_version_two(old_path,
      "INSERT INTO users (email, email_key, date_joined, is_active) "
      "VALUES ('a@example.com', 'a@example.com', 900, 1), "
      "('b@example.com', 'b@example.com', 900, 1);"
      "INSERT INTO tokens (jti, user_id, token_type, family, issued_at, expires_at, "
      "revoked_at, rotated) VALUES "
      // a's phone: obtained at 1100, refreshed at 1500; the first refresh
      // token merely rotated (the reuse grace may still honour it)
      "('0000044c11111111111111111111111', 1, 'refresh', '0000044c11111111111111111111111',"
      " 1100, 90000, 1500, 1),"
      "('0000044c22222222222222222222222', 1, 'access', '0000044c11111111111111111111111',"
      " 1100, 4100, NULL, 0),"
      "('000005dc33333333333333333333333', 1, 'refresh', '0000044c11111111111111111111111',"
      " 1500, 90400, NULL, 0),"
      "('000005dc44444444444444444444444', 1, 'access', '0000044c11111111111111111111111',"
      " 1500, 4500, NULL, 0),"
      // a's old laptop: never refreshed, expired at 2000
      "('000003e855555555555555555555555', 1, 'refresh', '000003e855555555555555555555555',"
      " 1000, 2000, NULL, 0),"
      "('000003e866666666666666666666666', 1, 'access', '000003e855555555555555555555555',"
      " 1000, 1300, NULL, 0),"
      // b's login
      "('000004b077777777777777777777777', 2, 'refresh', '000004b077777777777777777777777',"
      " 1200, 90200, NULL, 0),"
      "('000004b088888888888888888888888', 2, 'access', '000004b077777777777777777777777',"
      " 1200, 4200, NULL, 0);"
      "INSERT INTO sessions (id, user_id, refresh_jti, created_at, last_used_at, ip, user_agent) "
      "VALUES ('0000044c11111111111111111111111', 1, '000005dc33333333333333333333333',"
      " 1100, 1500, '192.0.2.1', 'phone'),"
      "('000003e855555555555555555555555', 1, '000003e855555555555555555555555',"
      " 1000, 1000, '192.0.2.2', 'laptop'),"
      "('000004b077777777777777777777777', 2, '000004b077777777777777777777777',"
      " 1200, 1200, '198.51.100.7', 'b');"));
  const char* kAllTokens =
      "SELECT jti, user_id, token_type, family, issued_at, expires_at, revoked_at, rotated "
      "FROM tokens ORDER BY jti";
  const char* kAllSessions =
      "SELECT id, user_id, refresh_jti, created_at, last_used_at, ip, user_agent "
      "FROM sessions ORDER BY id";
  const std::vector<std::string> tokens_before = RawDb(old_path).rows(kAllTokens);
  const std::vector<std::string> sessions_before = RawDb(old_path).rows(kAllSessions);
  ASSERT_EQ(tokens_before.size(), 8u);
  ASSERT_EQ(sessions_before.size(), 3u);

  Status st = Store::migrate(old_path, 5000);
  ASSERT_TRUE(st.ok()) << st.reason();
  {
    RawDb raw(old_path);
    EXPECT_EQ(raw.scalar("PRAGMA user_version"), 3);
    EXPECT_EQ(raw.scalar("PRAGMA user_version"), Store::schema_version());
    EXPECT_EQ(raw.rows(kAllTokens), tokens_before);  // every row, every column, as it was
    EXPECT_EQ(raw.rows(kAllSessions), sessions_before);
    EXPECT_EQ(raw.scalar("SELECT wr FROM pragma_table_list('tokens')"), 1);
    EXPECT_EQ(raw.rows("SELECT name FROM pragma_index_list('tokens') WHERE origin = 'c'"),
              (std::vector<std::string>{"tokens_user"}));
    EXPECT_EQ(raw.rows("PRAGMA foreign_key_check"), (std::vector<std::string>{}));
  }
  auto opened = Store::open(old_path, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;

  // The logins made before the upgrade are live and listed as they were.
  auto listed = [&](int64_t user_id, int64_t now) {
    std::vector<std::string> out;
    auto sessions = store.live_sessions(user_id, now, 0, 100);
    EXPECT_TRUE(sessions.ok());
    if (sessions.ok())
      for (const Session& s : *sessions) out.push_back(s.id + " " + s.refresh_jti + " " + s.ip);
    return out;
  };
  EXPECT_EQ(listed(1, 1600), (std::vector<std::string>{
                                 "0000044c11111111111111111111111 "
                                 "000005dc33333333333333333333333 192.0.2.1",
                                 "000003e855555555555555555555555 "
                                 "000003e855555555555555555555555 192.0.2.2"}));
  EXPECT_EQ(listed(2, 1600), (std::vector<std::string>{
                                 "000004b077777777777777777777777 "
                                 "000004b077777777777777777777777 198.51.100.7"}));
  auto live_refresh = store.token_with_user("000005dc33333333333333333333333");
  ASSERT_TRUE(live_refresh.ok() && live_refresh->has_value());
  EXPECT_EQ((*live_refresh)->first.revoked_at, std::nullopt);
  EXPECT_EQ((*live_refresh)->second.email, "a@example.com");
  auto rotated = store.token_with_user("0000044c11111111111111111111111");
  ASSERT_TRUE(rotated.ok() && rotated->has_value());
  EXPECT_TRUE((*rotated)->first.rotated);

  // Pruning at 2500: the laptop's tokens (expired at 2000 and 1300) and its
  // session go; the live tokens stay although their issue-time prefix is in
  // the pruned range of the key.
  ASSERT_TRUE(store.write([&] { return store.prune_tokens(2500); }).ok());
  EXPECT_EQ(RawDb(old_path).rows("SELECT jti FROM tokens ORDER BY jti"),
            (std::vector<std::string>{"0000044c11111111111111111111111",
                                      "0000044c22222222222222222222222",
                                      "000004b077777777777777777777777",
                                      "000004b088888888888888888888888",
                                      "000005dc33333333333333333333333",
                                      "000005dc44444444444444444444444"}));
  EXPECT_EQ(listed(1, 2600), (std::vector<std::string>{
                                 "0000044c11111111111111111111111 "
                                 "000005dc33333333333333333333333 192.0.2.1"}));
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM sessions"), 2);

  // Revocations go through the new index: logging out the phone ends it.
  auto revoked = store.revoke_family(1, "0000044c11111111111111111111111", 2700);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(*revoked, 3);  // the live refresh token and both access tokens, not the rotated one
  EXPECT_EQ(listed(1, 2800), (std::vector<std::string>{}));
  EXPECT_FALSE((*store.token_with_user("0000044c11111111111111111111111"))->first.rotated);
  EXPECT_EQ(listed(2, 2800).size(), 1u);  // b's untouched

  // The foreign key still cascades from users.
  ASSERT_TRUE(store.write([&] { return store.delete_user(*store.user_by_id(2).value()); }).ok());
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM tokens WHERE user_id = 2"), 0);
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM sessions WHERE user_id = 2"), 0);
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM tokens"), 4);
  EXPECT_TRUE(Store::migrate(old_path, 5000).ok());  // and again changes nothing
  EXPECT_EQ(RawDb(old_path).scalar("SELECT count(*) FROM tokens"), 4);
}

TEST_F(StoreTest, DecoyCodesAreKeptPerEmailAndPurposeAndPruned) {
  Code decoy;
  decoy.purpose = "password_recovery";
  decoy.code_hash = "aa";
  decoy.created_at = 1000;
  decoy.expires_at = 1600;
  ASSERT_TRUE(store_->write([&] { return store_->put_code_decoy("x@example.com", decoy); }).ok());
  ASSERT_TRUE(store_->write([&] {
                      return store_->set_code_decoy_attempts("x@example.com", "password_recovery", 3);
                    }).ok());
  auto found = store_->code_decoy_for("x@example.com", "password_recovery");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->attempts, 3);
  EXPECT_EQ((*found)->expires_at, 1600);
  EXPECT_FALSE(store_->code_decoy_for("x@example.com", "email_verification")->has_value());
  // A new decoy replaces the old one and starts a new count.
  decoy.created_at = 1100;
  ASSERT_TRUE(store_->write([&] { return store_->put_code_decoy("x@example.com", decoy); }).ok());
  EXPECT_EQ((*store_->code_decoy_for("x@example.com", "password_recovery"))->attempts, 0);
  ASSERT_TRUE(store_->write([&] { return store_->prune_code_decoys(1601); }).ok());
  EXPECT_FALSE(store_->code_decoy_for("x@example.com", "password_recovery")->has_value());
}

TEST_F(StoreTest, AVersionOneDatabaseWithPlainPendingMailMigratesAndStillDelivers) {
  std::string old_db = (dir_ / "v1.db").string();
  // What the version-1 binary queued: plain text, no kind, no code.
  ASSERT_NO_FATAL_FAILURE(make_version_one(old_db,
      "INSERT INTO outbox (id, recipient, subject, body, status, attempts, "
      "next_attempt_at, last_error, created_at) VALUES "
      "(1, 'a@x.co', 'Confirm your email address', 'Your code: 123456', "
      "'pending', 2, 150, '451 later', 100), "
      "(2, 'b@x.co', 'Your password was changed', 'Notice', 'pending', 0, "
      "100, NULL, 100), "
      "(3, 'c@x.co', 'Old', '', 'sent', 1, 100, NULL, 90)"));
  ASSERT_TRUE(Store::migrate(old_db, 5000).ok());
  {
    RawDb raw(old_db);
    EXPECT_EQ(raw.scalar("PRAGMA user_version"), Store::schema_version());
    EXPECT_EQ(raw.rows("SELECT name FROM pragma_index_info('outbox_due') ORDER BY seqno"),
              (std::vector<std::string>{"status", "kind", "next_attempt_at"}));
  }
  auto opened = Store::open(old_db, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  auto due = store.due_mail(200, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  // Queued before codes were named: delivered as they are, with no code to check.
  EXPECT_EQ((*due)[0].id, 2);
  EXPECT_EQ((*due)[1].id, 1);
  EXPECT_EQ((*due)[1].subject, "Confirm your email address");
  EXPECT_EQ((*due)[1].body, "Your code: 123456");
  EXPECT_EQ((*due)[1].attempts, 2);
  EXPECT_FALSE((*due)[1].code.has_value());
  EXPECT_FALSE((*due)[1].sealed);
  ASSERT_TRUE(store.write([&] { return store.mark_mail_sent(1, 210); }).ok());
  ASSERT_TRUE(store.write([&] { return store.mark_mail_sent(2, 210); }).ok());
  EXPECT_TRUE(store.due_mail(1000, 10)->empty());
  EXPECT_EQ((*store.mail_by_id(1))->status, "sent");
  EXPECT_EQ((*store.mail_by_id(1))->body, "");
  // New mail goes in beside them.
  ASSERT_TRUE(store.write([&] { return store.enqueue_mail(notice("d@x.co", "s", "b"), 300); }).ok());
  EXPECT_EQ(store.due_mail(300, 10)->size(), 1u);
}

// From each released version: version 1, and version 2 (0.9.0).
TEST_F(SqliteStoreTest, AnUpgradedDatabaseHasTheSchemaOfAFreshOne) {
  const std::string v1 = (dir_ / "v1.db").string(), v2 = (dir_ / "v2.db").string();
  ASSERT_NO_FATAL_FAILURE(make_version_one(v1));
  ASSERT_NO_FATAL_FAILURE(make_version_two(v2));
  RawDb fresh(path_);
  for (const std::string& old_db : {v1, v2}) {
    SCOPED_TRACE(old_db);
    ASSERT_TRUE(Store::migrate(old_db, 5000).ok());
    RawDb upgraded(old_db);
    // Columns by name: ALTER TABLE appends, so their order may differ (every
    // query names its columns).
    for (const char* table :
         {"users", "codes", "code_decoys", "throttle_events", "tokens", "sessions", "outbox"}) {
      std::string columns = std::string("SELECT name, type, \"notnull\", dflt_value, pk FROM "
                                        "pragma_table_info('") + table + "') ORDER BY name";
      EXPECT_EQ(upgraded.rows(columns.c_str()), fresh.rows(columns.c_str())) << table;
      std::string indexes = std::string("SELECT name, (SELECT group_concat(name) FROM (SELECT "
                                        "name FROM pragma_index_info(il.name) ORDER BY seqno)) "
                                        "FROM pragma_index_list('") +
                            table + "') il ORDER BY name";
      EXPECT_EQ(upgraded.rows(indexes.c_str()), fresh.rows(indexes.c_str())) << table;
      std::string kind = std::string("SELECT wr, strict FROM pragma_table_list('") + table + "')";
      EXPECT_EQ(upgraded.rows(kind.c_str()), fresh.rows(kind.c_str())) << table;
    }
  }
}

TEST_F(StoreTest, MigrateCreatesTheFile) {
  std::string other = (dir_ / "fresh.db").string();
  ASSERT_FALSE(fs::exists(other));
  ASSERT_TRUE(Store::migrate(other, 5000).ok());
  EXPECT_TRUE(fs::exists(other));
  auto opened = Store::open(other, 5000);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE((*opened)->mail_counts().ok());
}

// Whatever the umask, the database and its WAL files are the owner's alone:
// `run` as root lets nginx's workers into the state dir to reach the sockets.
TEST_F(StoreTest, TheDatabaseAndItsWalFilesAreCreatedOwnerOnly) {
  mode_t old_umask = umask(0);
  std::string other = (dir_ / "private.db").string();
  Status migrated = Store::migrate(other, 5000);
  umask(old_umask);
  ASSERT_TRUE(migrated.ok()) << migrated.reason();
  auto opened = Store::open(other, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;  // a write, so that -wal and -shm exist
  ASSERT_TRUE(store.write([&] { return store.insert_user(new_user("a@example.com")).status_or_ok(); }).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::perms p = fs::status(other + suffix, ec).permissions();
    ASSERT_FALSE(ec) << other + suffix;
    EXPECT_EQ(p & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << suffix;
  }
}

TEST_F(StoreTest, OpenOnAMissingFileSucceedsButQueriesAreUnavailable) {
  std::string missing = (dir_ / "missing.db").string();
  auto opened = Store::open(missing, 100);
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(fs::exists(missing));  // never created by open
  Status read = (*opened)->mail_counts().status_or_ok();
  EXPECT_EQ(read.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(read.http_status(), 503);
  auto u = (*opened)->user_by_id(1);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().http_status(), 503);
  EXPECT_EQ((*opened)->write([] { return Status(); }).http_status(), 503);
  EXPECT_FALSE(fs::exists(missing));
}

// --- users

TEST_F(StoreTest, InsertAndFindUserByIdAndByEmailKey) {
  NewUser n = new_user("Foo@example.com", 1234);
  n.password = "pbkdf2_sha256$1$salt$hash";
  n.terms_accepted = true;
  n.is_active = true;
  n.is_staff = true;
  Result<int64_t> id = store_->insert_user(n);
  ASSERT_TRUE(id.ok());
  EXPECT_GT(*id, 0);

  User u = get_user(*id);
  EXPECT_EQ(u.id, *id);
  EXPECT_EQ(u.email, "Foo@example.com");
  EXPECT_EQ(u.email_key, "foo@example.com");
  EXPECT_EQ(u.password, "pbkdf2_sha256$1$salt$hash");
  EXPECT_EQ(u.first_name, "");
  EXPECT_EQ(u.last_name, "");
  EXPECT_TRUE(u.terms_accepted);
  EXPECT_FALSE(u.email_verified);
  EXPECT_EQ(u.verified_at, std::nullopt);
  EXPECT_TRUE(u.is_active);
  EXPECT_TRUE(u.is_staff);
  EXPECT_FALSE(u.is_superuser);
  EXPECT_EQ(u.date_joined, 1234);
  EXPECT_EQ(u.last_login, std::nullopt);
  EXPECT_EQ(u.pin_hash, std::nullopt);
  EXPECT_EQ(u.pin_failures, 0);
  EXPECT_EQ(u.pin_locked_until, 0);
  EXPECT_EQ(u.pin_reset_until, 0);

  auto by_key = store_->user_by_email_key("foo@example.com");
  ASSERT_TRUE(by_key.ok());
  ASSERT_TRUE(by_key->has_value());
  EXPECT_EQ((*by_key)->id, *id);

  // The key is matched exactly: callers lower-case it.
  auto other_case = store_->user_by_email_key("Foo@example.com");
  ASSERT_TRUE(other_case.ok());
  EXPECT_FALSE(other_case->has_value());
}

TEST_F(StoreTest, UnknownUserIsNulloptNotAnError) {
  auto by_id = store_->user_by_id(424242);
  ASSERT_TRUE(by_id.ok());
  EXPECT_FALSE(by_id->has_value());
  auto by_key = store_->user_by_email_key("nobody@example.com");
  ASSERT_TRUE(by_key.ok());
  EXPECT_FALSE(by_key->has_value());
}

TEST_F(StoreTest, VerifiedNewUserGetsVerifiedAtDateJoinedAndNoPasswordIsNull) {
  NewUser n = new_user("v@example.com", 777);
  n.email_verified = true;
  Result<int64_t> id = store_->insert_user(n);
  ASSERT_TRUE(id.ok());
  User u = get_user(*id);
  EXPECT_TRUE(u.email_verified);
  EXPECT_EQ(u.verified_at, 777);
  EXPECT_EQ(u.password, std::nullopt);
}

TEST_F(StoreTest, DuplicateEmailKeyIsRefused) {
  add_user("dup@example.com");
  Result<int64_t> again = store_->insert_user(new_user("DUP@example.com"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().is_storage_failure());
}

TEST_F(StoreTest, DeletedIdsAreNotReused) {
  int64_t a = add_user("a@example.com");
  int64_t b = add_user("b@example.com");
  ASSERT_TRUE(store_->delete_user(get_user(b)).ok());
  int64_t c = add_user("c@example.com");
  EXPECT_GT(b, a);
  EXPECT_GT(c, b);
}

TEST_F(StoreTest, UserUpdates) {
  int64_t id = add_user("up@example.com");
  ASSERT_TRUE(store_->set_terms_accepted(id).ok());
  ASSERT_TRUE(store_->mark_email_verified(id, 1500, "203.0.113.7").ok());
  ASSERT_TRUE(store_->set_last_login(id, 1600).ok());
  ASSERT_TRUE(store_->set_names(id, "Ada", "Lovelace").ok());
  User u = get_user(id);
  EXPECT_TRUE(u.terms_accepted);
  EXPECT_TRUE(u.email_verified);
  EXPECT_EQ(u.verified_at, 1500);
  EXPECT_EQ(u.last_login, 1600);
  EXPECT_EQ(u.first_name, "Ada");
  EXPECT_EQ(u.last_name, "Lovelace");

  // set_password without activate keeps the account inactive; with it, activates.
  ASSERT_TRUE(store_->set_password(id, "hash1", Activation::kUnchanged).ok());
  u = get_user(id);
  EXPECT_EQ(u.password, "hash1");
  EXPECT_FALSE(u.is_active);
  ASSERT_TRUE(store_->set_password(id, "hash2", Activation::kActivate).ok());
  u = get_user(id);
  EXPECT_EQ(u.password, "hash2");
  EXPECT_TRUE(u.is_active);
  // ... and without activate never deactivates.
  ASSERT_TRUE(store_->set_password(id, "hash3", Activation::kUnchanged).ok());
  EXPECT_TRUE(get_user(id).is_active);

  ASSERT_TRUE(store_->set_active(id, Active::kNo).ok());
  EXPECT_FALSE(get_user(id).is_active);
  ASSERT_TRUE(store_->set_active(id, Active::kYes).ok());
  EXPECT_TRUE(get_user(id).is_active);
}

TEST_F(StoreTest, SetEmailChangesBothFormsAndMarksVerified) {
  int64_t id = add_user("old@example.com");
  ASSERT_TRUE(store_->set_email(id, "New@example.com", "new@example.com").ok());
  User u = get_user(id);
  EXPECT_EQ(u.email, "New@example.com");
  EXPECT_EQ(u.email_key, "new@example.com");
  EXPECT_TRUE(u.email_verified);
  auto old = store_->user_by_email_key("old@example.com");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());
}

TEST_F(StoreTest, PinFields) {
  int64_t id = add_user("pin@example.com");
  ASSERT_TRUE(store_->set_pin_strikes(id, 3, 5000).ok());
  User u = get_user(id);
  EXPECT_EQ(u.pin_failures, 3);
  EXPECT_EQ(u.pin_locked_until, 5000);

  ASSERT_TRUE(store_->set_pin_reset_window(id, 9000).ok());
  u = get_user(id);
  EXPECT_EQ(u.pin_reset_until, 9000);
  EXPECT_EQ(u.pin_failures, 0);
  EXPECT_EQ(u.pin_locked_until, 0);

  ASSERT_TRUE(store_->set_pin_strikes(id, 2, 100).ok());
  ASSERT_TRUE(store_->set_pin(id, "pinhash").ok());
  u = get_user(id);
  EXPECT_EQ(u.pin_hash, "pinhash");
  EXPECT_EQ(u.pin_failures, 0);
  EXPECT_EQ(u.pin_locked_until, 0);
  EXPECT_EQ(u.pin_reset_until, 0);
}

TEST_F(StoreTest, ListAndCountUsers) {
  int64_t a = add_user("a@example.com");
  NewUser staff = new_user("s@example.com");
  staff.is_staff = true;
  Result<int64_t> s = store_->insert_user(staff);
  ASSERT_TRUE(s.ok());
  int64_t c = add_user("c@example.com");

  auto all = store_->list_users(UserFilter::kAll, 0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, a);
  EXPECT_EQ((*all)[1].id, *s);
  EXPECT_EQ((*all)[2].id, c);

  auto page = store_->list_users(UserFilter::kAll, 1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, *s);

  auto staff_only = store_->list_users(UserFilter::kStaff, 0, 10);
  ASSERT_TRUE(staff_only.ok());
  ASSERT_EQ(staff_only->size(), 1u);
  EXPECT_EQ((*staff_only)[0].email, "s@example.com");

  EXPECT_EQ(*store_->count_users(UserFilter::kAll), 3);
  EXPECT_EQ(*store_->count_users(UserFilter::kStaff), 1);
}

TEST_F(StoreTest, DeleteUserCascadesToCodesTokensAndSendHistory) {
  int64_t id = add_user("gone@example.com");
  int64_t other = add_user("stay@example.com");
  ASSERT_TRUE(store_->add_throttle_event("send:email_verification", "gone@example.com", 1).ok());
  ASSERT_TRUE(store_->add_throttle_event("send:email_verification", "stay@example.com", 1).ok());
  ASSERT_TRUE(store_->put_code(code(id, "email_verification", "h")).ok());
  ASSERT_TRUE(store_->put_code(code(other, "email_verification", "h2")).ok());
  ASSERT_TRUE(store_->insert_token(token("jti-gone", id, "refresh", "jti-gone")).ok());
  ASSERT_TRUE(store_->insert_token(token("jti-stay", other, "refresh", "jti-stay")).ok());

  ASSERT_TRUE(store_->delete_user(get_user(id)).ok());
  auto u = store_->user_by_id(id);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_value());
  auto c = store_->code_for(id, "email_verification");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
  EXPECT_FALSE(get_token("jti-gone").has_value());

  EXPECT_EQ(store_->throttle_window("send:email_verification", "gone@example.com", 0)->count, 0);

  EXPECT_TRUE(get_token("jti-stay").has_value());
  auto kept = store_->code_for(other, "email_verification");
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->has_value());
  EXPECT_EQ(store_->throttle_window("send:email_verification", "stay@example.com", 0)->count, 1);
}

// --- codes

TEST_F(StoreTest, PutCodeStoresAndReadsBack) {
  int64_t id = add_user("c@example.com");
  Code c = code(id, "email_change", "hash-a", 1000);
  c.new_email = "next@example.com";
  ASSERT_TRUE(store_->put_code(c).ok());
  auto got = store_->code_for(id, "email_change");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->user_id, id);
  EXPECT_EQ((*got)->purpose, "email_change");
  EXPECT_EQ((*got)->code_hash, "hash-a");
  EXPECT_EQ((*got)->new_email, "next@example.com");
  EXPECT_EQ((*got)->created_at, 1000);
  EXPECT_EQ((*got)->expires_at, 1600);
  EXPECT_EQ((*got)->attempts, 0);
  EXPECT_EQ((*got)->used_at, std::nullopt);

  auto none = store_->code_for(id, "pin_reset");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(StoreTest, PutCodeReplacesTheLiveCodeAndResetsAttempts) {
  int64_t id = add_user("c@example.com");
  Code first = code(id, "email_change", "hash-a", 1000);
  first.new_email = "first@example.com";
  ASSERT_TRUE(store_->put_code(first).ok());
  ASSERT_TRUE(store_->put_code(code(id, "password_recovery", "hash-r", 1000)).ok());
  ASSERT_TRUE(store_->set_code_attempts(id, "email_change", 4).ok());
  ASSERT_TRUE(store_->mark_code_used(id, "email_change", 1100).ok());
  auto used = store_->code_for(id, "email_change");
  ASSERT_TRUE(used.ok() && used->has_value());
  EXPECT_EQ((*used)->attempts, 4);
  EXPECT_EQ((*used)->used_at, 1100);

  ASSERT_TRUE(store_->put_code(code(id, "email_change", "hash-b", 2000)).ok());
  auto got = store_->code_for(id, "email_change");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->code_hash, "hash-b");
  EXPECT_EQ((*got)->created_at, 2000);
  EXPECT_EQ((*got)->expires_at, 2600);
  EXPECT_EQ((*got)->attempts, 0);
  EXPECT_EQ((*got)->used_at, std::nullopt);
  EXPECT_EQ((*got)->new_email, std::nullopt);

  // One row per (user, purpose); the other purpose is untouched.
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM codes"), 2);
  auto other = store_->code_for(id, "password_recovery");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->code_hash, "hash-r");
}

// --- throttle events

TEST_F(StoreTest, ThrottleWindowCountsOldestNewestAndSinceIsExclusive) {
  const std::string scope = "send:email_verification";
  for (int64_t at : {300, 100, 200}) ASSERT_TRUE(store_->add_throttle_event(scope, "a@x.co", at).ok());
  ASSERT_TRUE(store_->add_throttle_event(scope, "b@x.co", 250).ok());
  ASSERT_TRUE(store_->add_throttle_event("login", "a@x.co", 250).ok());

  auto w = store_->throttle_window(scope, "a@x.co", 0);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->count, 3);
  EXPECT_EQ(w->oldest, 100);
  EXPECT_EQ(w->newest, 300);

  auto after100 = store_->throttle_window(scope, "a@x.co", 100);
  ASSERT_TRUE(after100.ok());
  EXPECT_EQ(after100->count, 2);
  EXPECT_EQ(after100->oldest, 200);
  EXPECT_EQ(after100->newest, 300);

  auto none = store_->throttle_window(scope, "a@x.co", 300);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->count, 0);
  EXPECT_EQ(none->oldest, 0);
  EXPECT_EQ(none->newest, 0);

  auto unknown = store_->throttle_window("send:pin_reset", "a@x.co", 0);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->count, 0);
}

TEST_F(StoreTest, AddAndRemoveThrottleEvent) {
  auto first = store_->add_throttle_event("login", "a@x.co", 10);
  auto second = store_->add_throttle_event("login", "a@x.co", 20);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  ASSERT_TRUE(store_->remove_throttle_event(*second).ok());
  auto w = store_->throttle_window("login", "a@x.co", 0);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->count, 1);
  EXPECT_EQ(w->newest, 10);
  // Removing an unknown id is not an error.
  EXPECT_TRUE(store_->remove_throttle_event(999999).ok());
}

TEST_F(StoreTest, ClearSendHistoryTouchesOnlySendScopesOfThatSubject) {
  ASSERT_TRUE(store_->add_throttle_event("send:email_verification", "a@x.co", 1).ok());
  ASSERT_TRUE(store_->add_throttle_event("send:password_recovery", "a@x.co", 2).ok());
  ASSERT_TRUE(store_->add_throttle_event("login", "a@x.co", 3).ok());
  ASSERT_TRUE(store_->add_throttle_event("sender", "a@x.co", 4).ok());
  ASSERT_TRUE(store_->add_throttle_event("send:email_verification", "b@x.co", 5).ok());

  ASSERT_TRUE(store_->clear_send_history("a@x.co").ok());
  EXPECT_EQ(store_->throttle_window("send:email_verification", "a@x.co", 0)->count, 0);
  EXPECT_EQ(store_->throttle_window("send:password_recovery", "a@x.co", 0)->count, 0);
  EXPECT_EQ(store_->throttle_window("login", "a@x.co", 0)->count, 1);
  EXPECT_EQ(store_->throttle_window("sender", "a@x.co", 0)->count, 1);
  EXPECT_EQ(store_->throttle_window("send:email_verification", "b@x.co", 0)->count, 1);
}

TEST_F(StoreTest, PruneThrottleEvents) {
  ASSERT_TRUE(store_->add_throttle_event("login", "b@x.co", 30).ok());
  ASSERT_TRUE(store_->add_throttle_event("login", "c@x.co", 40).ok());
  ASSERT_TRUE(store_->add_throttle_event("login", "c@x.co", 50).ok());
  ASSERT_TRUE(store_->prune_throttle_events(40).ok());  // strictly before 40
  EXPECT_EQ(store_->throttle_window("login", "b@x.co", 0)->count, 0);
  EXPECT_EQ(store_->throttle_window("login", "c@x.co", 0)->count, 2);
}

// --- tokens

TEST_F(StoreTest, InsertAndReadToken) {
  int64_t id = add_user("t@example.com");
  ASSERT_TRUE(store_->insert_token(token("r1", id, "refresh", "r1", 1000, 87400)).ok());
  std::optional<Token> t = get_token("r1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->jti, "r1");
  EXPECT_EQ(t->user_id, id);
  EXPECT_EQ(t->token_type, "refresh");
  EXPECT_EQ(t->family, "r1");
  EXPECT_EQ(t->issued_at, 1000);
  EXPECT_EQ(t->expires_at, 87400);
  EXPECT_EQ(t->revoked_at, std::nullopt);
  EXPECT_FALSE(t->rotated);
  EXPECT_FALSE(get_token("unknown").has_value());

  // A jti is unique.
  EXPECT_FALSE(store_->insert_token(token("r1", id, "access", "r1")).ok());
}

TEST_F(StoreTest, TokenForAnUnknownUserIsRefused) {
  EXPECT_FALSE(store_->insert_token(token("orphan", 999, "access", "orphan")).ok());
}

TEST_F(StoreTest, TokenWithUserJoinsTheUser) {
  NewUser n = new_user("Join@example.com", 55);
  n.is_active = true;
  Result<int64_t> id = store_->insert_user(n);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->set_pin(*id, "pinhash").ok());
  ASSERT_TRUE(store_->insert_token(token("a1", *id, "access", "r1", 100, 3100)).ok());
  ASSERT_TRUE(store_->revoke_family(*id, "r1", 200).ok());

  auto tu = store_->token_with_user("a1");
  ASSERT_TRUE(tu.ok());
  ASSERT_TRUE(tu->has_value());
  const Token& t = (*tu)->first;
  const User& u = (*tu)->second;
  EXPECT_EQ(t.jti, "a1");
  EXPECT_EQ(t.token_type, "access");
  EXPECT_EQ(t.family, "r1");
  EXPECT_EQ(t.expires_at, 3100);
  EXPECT_EQ(t.revoked_at, 200);
  EXPECT_EQ(u.id, *id);
  EXPECT_EQ(u.email, "Join@example.com");
  EXPECT_EQ(u.email_key, "join@example.com");
  EXPECT_TRUE(u.is_active);
  EXPECT_EQ(u.date_joined, 55);
  EXPECT_EQ(u.pin_hash, "pinhash");

  auto none = store_->token_with_user("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(StoreTest, RotateTokenOnceThenFalse) {
  int64_t id = add_user("t@example.com");
  ASSERT_TRUE(store_->insert_token(token("r1", id, "refresh", "r1")).ok());
  auto first = store_->rotate_token("r1", 1500);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto second = store_->rotate_token("r1", 1600);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  std::optional<Token> t = get_token("r1");
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->rotated);
  EXPECT_EQ(t->revoked_at, 1500);

  auto unknown = store_->rotate_token("nope", 1500);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
}

TEST_F(StoreTest, ARevokedTokenCannotRotate) {
  int64_t id = add_user("t@example.com");
  ASSERT_TRUE(store_->insert_token(token("r1", id, "refresh", "r1")).ok());
  ASSERT_TRUE(store_->revoke_family(id, "r1", 1500).ok());
  std::optional<Token> t = get_token("r1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->revoked_at, 1500);
  EXPECT_FALSE(t->rotated);

  auto rotate = store_->rotate_token("r1", 1700);
  ASSERT_TRUE(rotate.ok());
  EXPECT_FALSE(*rotate);
  EXPECT_FALSE(get_token("r1")->rotated);
}

TEST_F(StoreTest, RevokeFamilyKeepsEarlierRevocationTimes) {
  int64_t id = add_user("t@example.com");
  ASSERT_TRUE(store_->insert_token(token("r1", id, "refresh", "r1")).ok());
  ASSERT_TRUE(store_->insert_token(token("a1", id, "access", "r1")).ok());
  ASSERT_TRUE(store_->insert_token(token("r2", id, "refresh", "r1")).ok());
  ASSERT_TRUE(store_->insert_token(token("x1", id, "refresh", "x1")).ok());
  int64_t other = add_user("other@example.com");  // a family id is only ever one user's
  ASSERT_TRUE(store_->insert_token(token("o1", other, "refresh", "r1")).ok());
  ASSERT_TRUE(*store_->rotate_token("r1", 1100));

  ASSERT_TRUE(store_->revoke_family(id, "r1", 1200).ok());
  EXPECT_EQ(get_token("r1")->revoked_at, 1100);
  EXPECT_FALSE(get_token("r1")->rotated);  // no longer merely rotated
  EXPECT_EQ(get_token("a1")->revoked_at, 1200);
  EXPECT_EQ(get_token("r2")->revoked_at, 1200);
  EXPECT_EQ(get_token("x1")->revoked_at, std::nullopt);
  EXPECT_EQ(get_token("o1")->revoked_at, std::nullopt);
}

TEST_F(StoreTest, RevokeUserTokensTouchesOnlyThatUser) {
  int64_t a = add_user("a@example.com");
  int64_t b = add_user("b@example.com");
  ASSERT_TRUE(store_->insert_token(token("a-r", a, "refresh", "a-r")).ok());
  ASSERT_TRUE(store_->insert_token(token("a-a", a, "access", "a-x")).ok());
  ASSERT_TRUE(store_->insert_token(token("b-r", b, "refresh", "b-r")).ok());
  ASSERT_TRUE(store_->revoke_family(a, "a-x", 900).ok());

  ASSERT_TRUE(store_->revoke_user_tokens(a, 1000).ok());
  EXPECT_EQ(get_token("a-r")->revoked_at, 1000);
  EXPECT_EQ(get_token("a-a")->revoked_at, 900);
  EXPECT_EQ(get_token("b-r")->revoked_at, std::nullopt);
}

TEST_F(StoreTest, PruneTokensDeletesOnlyThoseExpiredBefore) {
  int64_t id = add_user("t@example.com");
  // jtis begin with their expiry, as token_service makes them.
  ASSERT_TRUE(store_->insert_token(token("00000064-old", id, "access", "f", 0, 100)).ok());
  ASSERT_TRUE(store_->insert_token(token("000000c8-edge", id, "access", "f", 0, 200)).ok());
  ASSERT_TRUE(store_->insert_token(token("0000012c-new", id, "access", "f", 0, 300)).ok());
  // A version-1 jti begins with its issue time: in the range, but kept while it lives.
  ASSERT_TRUE(store_->insert_token(token("00000032-v1-live", id, "refresh", "f", 50, 250)).ok());
  ASSERT_TRUE(store_->insert_token(token("00000032-v1-dead", id, "refresh", "f", 50, 150)).ok());
  ASSERT_TRUE(store_->prune_tokens(200).ok());
  EXPECT_FALSE(get_token("00000064-old").has_value());
  EXPECT_TRUE(get_token("000000c8-edge").has_value());
  EXPECT_TRUE(get_token("0000012c-new").has_value());
  EXPECT_TRUE(get_token("00000032-v1-live").has_value());
  EXPECT_FALSE(get_token("00000032-v1-dead").has_value());
}

TEST_F(StoreTest, RevocationsTakeAwayMerelyRotated) {
  int64_t a = add_user("a@example.com");
  for (const char* family : {"f1", "f2", "f3"}) {
    ASSERT_TRUE(store_->insert_token(token(family, a, "refresh", family)).ok());
    ASSERT_TRUE(*store_->rotate_token(family, 1100));
  }
  ASSERT_TRUE(store_->revoke_family(a, "f1", 1200).ok());
  EXPECT_FALSE(get_token("f1")->rotated);
  EXPECT_EQ(get_token("f1")->revoked_at, 1100);
  EXPECT_TRUE(get_token("f2")->rotated);
  ASSERT_TRUE(store_->revoke_other_families(a, "f3", 1300).ok());
  EXPECT_FALSE(get_token("f2")->rotated);
  EXPECT_TRUE(get_token("f3")->rotated);
  ASSERT_TRUE(store_->revoke_user_tokens(a, 1400).ok());
  EXPECT_FALSE(get_token("f3")->rotated);
  EXPECT_EQ(get_token("f3")->revoked_at, 1100);
}

// --- sessions

TEST_F(StoreTest, TouchSessionCreatesThenMovesItKeepingItsCreationTime) {
  int64_t a = add_user("a@example.com");
  login("s1", a, 1000);
  ASSERT_TRUE(store_->insert_token(token("s1-r2", a, "refresh", "s1", 1500, 101500)).ok());
  ASSERT_TRUE(
      store_->touch_session(session("s1", a, "s1-r2", 1500, 1500, "198.51.100.9", "tab 2")).ok());
  auto s = store_->live_session(a, "s1", 1600);
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->refresh_jti, "s1-r2");
  EXPECT_EQ((*s)->created_at, 1000);
  EXPECT_EQ((*s)->last_used_at, 1500);
  EXPECT_EQ((*s)->ip, "198.51.100.9");
  EXPECT_EQ((*s)->user_agent, "tab 2");
  EXPECT_EQ(RawDb(path_).scalar("SELECT count(*) FROM sessions"), 1);
}

TEST_F(StoreTest, LiveSessionsMostRecentlyUsedFirstAndPaged) {
  int64_t a = add_user("a@example.com");
  int64_t b = add_user("b@example.com");
  login("old", a, 1000);
  login("new", a, 3000);
  login("mid", a, 2000);
  login("tie-a", a, 2500);
  login("tie-b", a, 2500);  // same second: the later id first
  login("theirs", b, 4000);
  EXPECT_EQ(live_ids(a, 5000), (std::vector<std::string>{"new", "tie-b", "tie-a", "mid", "old"}));
  EXPECT_EQ(live_ids(a, 5000, 1, 2), (std::vector<std::string>{"tie-b", "tie-a"}));
  EXPECT_EQ(live_ids(a, 5000, 4, 10), (std::vector<std::string>{"old"}));
  EXPECT_TRUE(live_ids(a, 5000, 5, 10).empty());
  EXPECT_EQ(*store_->count_live_sessions(a, 5000), 5);
  EXPECT_EQ(live_ids(b, 5000), (std::vector<std::string>{"theirs"}));
  // Another user's session is not one of a's.
  EXPECT_FALSE(store_->live_session(a, "theirs", 5000)->has_value());
  EXPECT_TRUE(store_->live_session(b, "theirs", 5000)->has_value());
}

TEST_F(StoreTest, ASessionDiesWithItsNewestRefreshToken) {
  int64_t a = add_user("a@example.com");
  login("rotated", a, 1000);
  login("logout", a, 1000);
  login("expiring", a, 1000, 3000);
  login("kept", a, 1000);
  // A rotation alone does not end a session: its newest token is the new one.
  ASSERT_TRUE(*store_->rotate_token("rotated", 1100));
  ASSERT_TRUE(
      store_->insert_token(token("rotated-r2", a, "refresh", "rotated", 1100, 100000)).ok());
  ASSERT_TRUE(store_->touch_session(session("rotated", a, "rotated-r2", 1100, 1100)).ok());
  ASSERT_TRUE(store_->revoke_family(a, "logout", 1200).ok());
  EXPECT_EQ(live_ids(a, 2999), (std::vector<std::string>{"rotated", "kept", "expiring"}));
  EXPECT_EQ(live_ids(a, 3000), (std::vector<std::string>{"rotated", "kept"}));  // exp <= now
  EXPECT_EQ(*store_->count_live_sessions(a, 3000), 2);
  EXPECT_FALSE(store_->live_session(a, "logout", 1300)->has_value());
  ASSERT_TRUE(store_->revoke_other_families(a, "kept", 1400).ok());
  EXPECT_EQ(live_ids(a, 1500), (std::vector<std::string>{"kept"}));
  ASSERT_TRUE(store_->revoke_user_tokens(a, 1600).ok());
  EXPECT_TRUE(live_ids(a, 1700).empty());
}

TEST_F(StoreTest, PruneTokensTakesTheSessionsWhoseNewestTokenGoes) {
  int64_t a = add_user("a@example.com");
  // jtis begin with their expiry, as token_service makes them (7d0 = 2000).
  login("000007d0-gone", a, 1000, 2000);
  login("000007d0-moved", a, 1000, 2000);  // refreshed: its newest token lives on
  ASSERT_TRUE(
      store_->insert_token(token("00000dac-moved-r2", a, "refresh", "000007d0-moved", 1500, 3500))
          .ok());
  ASSERT_TRUE(store_->touch_session(
                        session("000007d0-moved", a, "00000dac-moved-r2", 1500, 1500))
                  .ok());
  login("00001388-later", a, 1000, 5000);
  ASSERT_TRUE(store_->prune_tokens(2500).ok());
  EXPECT_EQ(RawDb(path_).scalar("SELECT count(*) FROM sessions WHERE id = '000007d0-gone'"), 0);
  EXPECT_EQ(RawDb(path_).scalar("SELECT count(*) FROM sessions"), 2);
  EXPECT_EQ(RawDb(path_).scalar("SELECT count(*) FROM tokens"), 3);  // moved-r2, later's two
  EXPECT_EQ(live_ids(a, 2600), (std::vector<std::string>{"000007d0-moved", "00001388-later"}));
}

TEST_F(StoreTest, DeleteUserTakesItsSessions) {
  int64_t a = add_user("a@example.com");
  int64_t b = add_user("b@example.com");
  login("mine", a, 1000);
  login("theirs", b, 1000);
  ASSERT_TRUE(store_->delete_user(get_user(a)).ok());
  EXPECT_EQ(RawDb(path_).scalar("SELECT count(*) FROM sessions"), 1);
  EXPECT_EQ(live_ids(b, 1100), (std::vector<std::string>{"theirs"}));
}

// --- outbox

TEST_F(StoreTest, EnqueueMailRefusesOutsideWrite) {
  int hooks = 0;
  store_->set_mail_queued_hook([&] { ++hooks; });
  Status st = store_->enqueue_mail(notice("a@x.co", "s", "b"), 100);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), Status::Kind::kInternal);
  EXPECT_EQ(hooks, 0);
  EXPECT_TRUE(list(MailFilter::kAll).empty());
}

TEST_F(StoreTest, MailQueuedHookRunsAfterCommitOnly) {
  int hooks = 0;
  int64_t rows_seen_by_other_connection = -1;
  store_->set_mail_queued_hook([&] {
    ++hooks;
    RawDb other(path_);  // sees only committed data
    rows_seen_by_other_connection = other.scalar("SELECT count(*) FROM outbox");
  });

  int hooks_inside = -1;
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->enqueue_mail(notice("a@x.co", "Your code", "123456"), 100));
    hooks_inside = hooks;
    return Status();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(hooks_inside, 0);
  EXPECT_EQ(hooks, 1);
  EXPECT_EQ(rows_seen_by_other_connection, 1);

  // A write that queues nothing does not call the hook.
  ASSERT_TRUE(store_->write([] { return Status(); }).ok());
  EXPECT_EQ(hooks, 1);

  // Several mails in one transaction: one call.
  ASSERT_TRUE(store_->write([&] {
                      CPA_RETURN_IF_ERROR(store_->enqueue_mail(notice("b@x.co", "s", "b"), 100));
                      return store_->enqueue_mail(notice("c@x.co", "s", "b"), 100);
                    })
                  .ok());
  EXPECT_EQ(hooks, 2);
  EXPECT_EQ(rows_seen_by_other_connection, 3);
}

TEST_F(StoreTest, MailQueuedHookNotCalledOnRollback) {
  int hooks = 0;
  store_->set_mail_queued_hook([&] { ++hooks; });
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->enqueue_mail(notice("a@x.co", "s", "b"), 100));
    return Status::Internal("boom");
  });
  EXPECT_EQ(st.kind(), Status::Kind::kInternal);
  EXPECT_EQ(hooks, 0);
  EXPECT_TRUE(list(MailFilter::kAll).empty());

  // The flag does not leak into the next, mail-less, transaction.
  ASSERT_TRUE(store_->write([] { return Status(); }).ok());
  EXPECT_EQ(hooks, 0);
}

TEST_F(StoreTest, MailQueuedHookCalledWhenABusinessErrorCommits) {
  int hooks = 0;
  store_->set_mail_queued_hook([&] { ++hooks; });
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->enqueue_mail(notice("a@x.co", "s", "b"), 100));
    return Status::Field("code", "Invalid or expired code.");
  });
  EXPECT_EQ(st.http_status(), 400);
  EXPECT_EQ(hooks, 1);
  EXPECT_EQ(list(MailFilter::kAll).size(), 1u);
}

TEST_F(StoreTest, EnqueuedMailFields) {
  ASSERT_TRUE(store_->write([&] { return store_->enqueue_mail(notice("a@x.co", "Subj", "Body"), 123); }).ok());
  std::vector<Mail> all = list(MailFilter::kAll);
  ASSERT_EQ(all.size(), 1u);
  const Mail& m = all[0];
  EXPECT_GT(m.id, 0);
  EXPECT_EQ(m.recipient, "a@x.co");
  EXPECT_EQ(m.subject, "Subj");
  EXPECT_EQ(m.body, "Body");
  EXPECT_EQ(m.status, "pending");
  EXPECT_EQ(m.attempts, 0);
  EXPECT_EQ(m.next_attempt_at, 123);
  EXPECT_EQ(m.created_at, 123);
  EXPECT_EQ(m.last_error, std::nullopt);
  EXPECT_EQ(m.sent_at, std::nullopt);
}

TEST_F(StoreTest, SealedFieldsAreBlobsKeptByteForByte) {
  const std::string subject("\x01\x00\xff sealed", 10);
  const std::string body("\x00\x80\xfe\x00", 4);
  ASSERT_TRUE(store_->write([&] {
                      return store_->enqueue_mail(
                          {.recipient = "a@x.co", .subject = subject, .body = body, .sealed = true},
                          100);
                    }).ok());
  Mail m = list(MailFilter::kAll)[0];
  EXPECT_TRUE(m.sealed);
  EXPECT_EQ(m.subject, subject);
  EXPECT_EQ(m.body, body);
  if (!database_.postgresql()) {  // (PostgreSQL's columns are BYTEA whatever is stored)
    RawDb raw(path_);
    EXPECT_EQ(raw.rows("SELECT typeof(subject), typeof(body), sealed FROM outbox"),
              (std::vector<std::string>{"blob|blob|1"}));
  }
  // A plain row reads back as it was queued.
  ASSERT_TRUE(enqueue("b@x.co", 100).ok());
  Mail plain = list(MailFilter::kAll)[0];
  EXPECT_FALSE(plain.sealed);
  EXPECT_EQ(plain.body, "Body 123456");
}

TEST_F(StoreTest, MailById) {
  ASSERT_TRUE(enqueue("a@x.co", 100).ok());
  int64_t id = list(MailFilter::kAll)[0].id;
  auto m = store_->mail_by_id(id);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->id, id);
  EXPECT_EQ((*m)->recipient, "a@x.co");
  EXPECT_EQ((*m)->body, "Body 123456");
  auto none = store_->mail_by_id(id + 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(StoreTest, DueMailOrderAndLimit) {
  ASSERT_TRUE(enqueue("late@x.co", 300).ok());
  ASSERT_TRUE(enqueue("first@x.co", 100).ok());
  ASSERT_TRUE(enqueue("second@x.co", 100).ok());
  ASSERT_TRUE(enqueue("future@x.co", 1000).ok());

  auto due = store_->due_mail(500, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 3u);
  EXPECT_EQ((*due)[0].recipient, "first@x.co");
  EXPECT_EQ((*due)[1].recipient, "second@x.co");
  EXPECT_EQ((*due)[2].recipient, "late@x.co");

  auto limited = store_->due_mail(500, 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[1].recipient, "second@x.co");

  auto at_boundary = store_->due_mail(100, 10);
  ASSERT_TRUE(at_boundary.ok());
  EXPECT_EQ(at_boundary->size(), 2u);

  auto next = store_->next_mail_due();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 100);
}

// Two mailers (two nodes on one PostgreSQL, or two connections here) never
// hold the same row: a claim moves its rows' due time to the lease's end.
TEST_F(StoreTest, ClaimedMailIsNoOtherMailersUntilTheLeaseEnds) {
  for (const char* to : {"a@x.co", "b@x.co", "c@x.co"}) ASSERT_TRUE(enqueue(to, 100).ok());
  std::unique_ptr<Store> other = open_store(5000);
  ASSERT_NE(other, nullptr);
  auto claim = [](Store& store, int64_t now, int limit) {
    std::vector<std::string> got;
    Status st = store.write([&]() -> Status {
      CPA_ASSIGN_OR_RETURN(std::vector<Mail> rows, store.claim_due_mail(now, limit, now + 90));
      for (const Mail& m : rows) got.push_back(m.recipient);
      return Status();
    });
    EXPECT_TRUE(st.ok()) << st.reason();
    return got;
  };
  EXPECT_EQ(claim(*store_, 200, 2), (std::vector<std::string>{"a@x.co", "b@x.co"}));
  EXPECT_EQ(claim(*other, 200, 10), (std::vector<std::string>{"c@x.co"}));
  EXPECT_TRUE(claim(*store_, 289, 10).empty());
  // Outside a write, a claim could race: refused.
  EXPECT_FALSE(store_->claim_due_mail(200, 10, 290).ok());
  // A sent row is done; a row whose mailer died is due again at the lease's end.
  int64_t a = list(MailFilter::kAll).back().id;
  ASSERT_TRUE(store_->write([&] { return store_->mark_mail_sent(a, 210); }).ok());
  EXPECT_EQ(claim(*other, 290, 10), (std::vector<std::string>{"b@x.co", "c@x.co"}));
}

TEST_F(StoreTest, NextMailDueWhenNothingIsPending) {
  auto next = store_->next_mail_due();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, std::nullopt);
}

TEST_F(StoreTest, MarkSentEmptiesTheBodyAndLeavesTheQueue) {
  ASSERT_TRUE(enqueue("a@x.co", 100).ok());
  int64_t id = list(MailFilter::kAll)[0].id;
  ASSERT_TRUE(store_->mark_mail_retry(id, 1, 150, "timeout").ok());
  ASSERT_TRUE(store_->mark_mail_sent(id, 200).ok());
  Mail m = list(MailFilter::kAll)[0];
  EXPECT_EQ(m.status, "sent");
  EXPECT_EQ(m.body, "");
  EXPECT_EQ(m.sent_at, 200);
  EXPECT_EQ(m.attempts, 2);
  EXPECT_EQ(m.last_error, std::nullopt);
  EXPECT_TRUE(store_->due_mail(1000, 10)->empty());
  EXPECT_EQ(*store_->next_mail_due(), std::nullopt);
  EXPECT_TRUE(list(MailFilter::kPending).empty());
}

TEST_F(StoreTest, RetryFailedCountsAndListFilters) {
  ASSERT_TRUE(enqueue("retry@x.co", 100).ok());
  ASSERT_TRUE(enqueue("fail@x.co", 100).ok());
  ASSERT_TRUE(enqueue("sent@x.co", 100).ok());
  std::vector<Mail> all = list(MailFilter::kAll);
  ASSERT_EQ(all.size(), 3u);
  // Newest first.
  EXPECT_EQ(all[0].recipient, "sent@x.co");
  EXPECT_EQ(all[2].recipient, "retry@x.co");
  int64_t retry_id = all[2].id, fail_id = all[1].id, sent_id = all[0].id;

  ASSERT_TRUE(store_->mark_mail_retry(retry_id, 1, 400, "421 try later").ok());
  ASSERT_TRUE(store_->mark_mail_failed(fail_id, 5, "550 no such user").ok());
  ASSERT_TRUE(store_->mark_mail_sent(sent_id, 150).ok());

  std::vector<Mail> pending = list(MailFilter::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, retry_id);
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_EQ(pending[0].next_attempt_at, 400);
  EXPECT_EQ(pending[0].last_error, "421 try later");
  EXPECT_TRUE(store_->due_mail(399, 10)->empty());
  EXPECT_EQ(store_->due_mail(400, 10)->size(), 1u);

  std::vector<Mail> failed = list(MailFilter::kFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].id, fail_id);
  EXPECT_EQ(failed[0].status, "failed");
  EXPECT_EQ(failed[0].attempts, 5);
  EXPECT_EQ(failed[0].last_error, "550 no such user");

  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 1);
  EXPECT_EQ(counts->failed, 1);

  EXPECT_EQ(list(MailFilter::kAll, 2).size(), 2u);
}

TEST_F(StoreTest, MailCountsOfAnEmptyOutbox) {
  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->failed, 0);
}

TEST_F(StoreTest, RetryMailResetsAttemptsAndNeverResendsSentMail) {
  ASSERT_TRUE(enqueue("fail@x.co", 100).ok());
  ASSERT_TRUE(enqueue("sent@x.co", 100).ok());
  std::vector<Mail> all = list(MailFilter::kAll);
  int64_t fail_id = all[1].id, sent_id = all[0].id;
  ASSERT_TRUE(store_->mark_mail_failed(fail_id, 5, "550").ok());
  ASSERT_TRUE(store_->mark_mail_sent(sent_id, 150).ok());

  auto changed = store_->retry_mail(fail_id, 500);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 1);
  std::vector<Mail> pending = list(MailFilter::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, fail_id);
  EXPECT_EQ(pending[0].attempts, 0);
  EXPECT_EQ(pending[0].next_attempt_at, 500);

  auto sent = store_->retry_mail(sent_id, 500);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 0);
  auto unknown = store_->retry_mail(987654, 500);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, 0);
}

TEST_F(StoreTest, RetryAllFailedAndPruneSent) {
  for (const char* to : {"f1@x.co", "f2@x.co", "p@x.co", "s@x.co"}) ASSERT_TRUE(enqueue(to, 100).ok());
  std::vector<Mail> all = list(MailFilter::kAll);  // s, p, f2, f1
  ASSERT_TRUE(store_->mark_mail_failed(all[3].id, 5, "x").ok());
  ASSERT_TRUE(store_->mark_mail_failed(all[2].id, 5, "x").ok());
  ASSERT_TRUE(store_->mark_mail_sent(all[0].id, 150).ok());

  auto n = store_->retry_all_failed_mail(600);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(list(MailFilter::kFailed).empty());
  EXPECT_EQ(list(MailFilter::kPending).size(), 3u);

  ASSERT_TRUE(store_->prune_done_mail(150).ok());  // strictly before
  EXPECT_EQ(list(MailFilter::kAll).size(), 4u);
  ASSERT_TRUE(store_->prune_done_mail(151).ok());
  EXPECT_EQ(list(MailFilter::kAll).size(), 3u);
}

// --- code mails: they know their code, go first, and expire with it

TEST_F(StoreTest, ACodeMailKeepsItsCodeAndANoticeHasNone) {
  int64_t uid = add_user("c@x.co");
  ASSERT_TRUE(store_->write([&] {
                      OutboxMail m = notice("c@x.co", "Your code", "Body");
                      m.code = CodeRef{uid, "email_verification", "hash-1"};
                      CPA_RETURN_IF_ERROR(store_->enqueue_mail(m, 100));
                      return store_->enqueue_mail(notice("c@x.co", "Notice", "Body"), 100);
                    }).ok());
  std::vector<Mail> all = list(MailFilter::kAll);  // newest first
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0].code.has_value());
  ASSERT_TRUE(all[1].code.has_value());
  EXPECT_EQ(all[1].code->user_id, uid);
  EXPECT_EQ(all[1].code->purpose, "email_verification");
  EXPECT_EQ(all[1].code->code_hash, "hash-1");
}

TEST_F(StoreTest, DueMailPutsCodeMailsBeforeNotices) {
  int64_t uid = add_user("c@x.co");
  auto code_mail = [&](const std::string& to, int64_t at) {
    return store_->write([&] {
      OutboxMail m = notice(to, "Your code", "Body");
      m.code = CodeRef{uid, "email_verification", "h"};
      return store_->enqueue_mail(m, at);
    });
  };
  ASSERT_TRUE(enqueue("notice-early@x.co", 100).ok());
  ASSERT_TRUE(code_mail("code-late@x.co", 300).ok());
  ASSERT_TRUE(enqueue("notice-late@x.co", 300).ok());
  ASSERT_TRUE(code_mail("code-early@x.co", 200).ok());
  ASSERT_TRUE(code_mail("code-future@x.co", 900).ok());
  auto due = store_->due_mail(500, 10);
  ASSERT_TRUE(due.ok());
  std::vector<std::string> order;
  for (const Mail& m : *due) order.push_back(m.recipient);
  EXPECT_EQ(order, (std::vector<std::string>{"code-early@x.co", "code-late@x.co",
                                             "notice-early@x.co", "notice-late@x.co"}));
  auto one = store_->due_mail(500, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].recipient, "code-early@x.co");
}

TEST_F(StoreTest, CodeIsLiveOnlyWhileItIsTheUnusedUnexpiredUnburntCode) {
  constexpr int kMaxWrong = 5;
  int64_t uid = add_user("live@x.co");
  ASSERT_TRUE(store_->put_code(code(uid, "email_verification", "first", 1000)).ok());  // expires 1600
  CodeRef first{uid, "email_verification", "first"};
  auto live = [&](const CodeRef& ref, int64_t now) {
    Result<bool> r = store_->code_is_live(ref, now, kMaxWrong);
    EXPECT_TRUE(r.ok());
    return r.ok() && *r;
  };
  EXPECT_TRUE(live(first, 1599));
  EXPECT_FALSE(live(first, 1600)) << "expired";
  EXPECT_FALSE(live(CodeRef{uid, "password_recovery", "first"}, 1000)) << "another purpose";
  EXPECT_FALSE(live(CodeRef{uid + 1, "email_verification", "first"}, 1000)) << "another user";

  ASSERT_TRUE(store_->set_code_attempts(uid, "email_verification", kMaxWrong - 1).ok());
  EXPECT_TRUE(live(first, 1000));
  ASSERT_TRUE(store_->set_code_attempts(uid, "email_verification", kMaxWrong).ok());
  EXPECT_FALSE(live(first, 1000)) << "burnt by wrong guesses";

  // Replaced: the row is back to 0 attempts, but it is another code.
  ASSERT_TRUE(store_->put_code(code(uid, "email_verification", "second", 1000)).ok());
  EXPECT_FALSE(live(first, 1000)) << "replaced";
  CodeRef second{uid, "email_verification", "second"};
  EXPECT_TRUE(live(second, 1000));

  ASSERT_TRUE(store_->mark_code_used(uid, "email_verification", 1100).ok());
  EXPECT_FALSE(live(second, 1200)) << "used";

  ASSERT_TRUE(store_->put_code(code(uid, "email_verification", "third", 1000)).ok());
  CodeRef third{uid, "email_verification", "third"};
  EXPECT_TRUE(live(third, 1000));
  ASSERT_TRUE(store_->write([&] { return store_->delete_user(get_user(uid)); }).ok());
  EXPECT_FALSE(live(third, 1000)) << "its user deleted";
}

TEST_F(StoreTest, ExpiredMailLeavesTheQueueKeepsNoBodyAndIsPrunedLikeSentMail) {
  ASSERT_TRUE(enqueue("dead@x.co", 100).ok());
  ASSERT_TRUE(enqueue("sent@x.co", 100).ok());
  std::vector<Mail> all = list(MailFilter::kAll);
  int64_t dead = all[1].id, sent = all[0].id;
  ASSERT_TRUE(store_->mark_mail_retry(dead, 1, 120, "451 later").ok());
  ASSERT_TRUE(store_->mark_mail_expired(dead).ok());
  ASSERT_TRUE(store_->mark_mail_sent(sent, 300).ok());

  Mail m = *store_->mail_by_id(dead).value();
  EXPECT_EQ(m.status, "expired");
  EXPECT_EQ(m.body, "");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_error, std::nullopt);
  EXPECT_TRUE(store_->due_mail(1000, 10)->empty());
  EXPECT_EQ(*store_->next_mail_due(), std::nullopt);
  auto counts = store_->mail_counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->failed, 0);
  EXPECT_TRUE(list(MailFilter::kPending).empty());
  EXPECT_TRUE(list(MailFilter::kFailed).empty());

  // Its code cannot come back to life: it is not made due again.
  EXPECT_EQ(*store_->retry_mail(dead, 500), 0);
  EXPECT_EQ(*store_->retry_all_failed_mail(500), 0);
  // Only a pending row expires.
  ASSERT_TRUE(store_->mark_mail_expired(sent).ok());
  EXPECT_EQ((*store_->mail_by_id(sent))->status, "sent");

  // Pruned by creation time (100), the sent row by its sending time (300).
  ASSERT_TRUE(store_->prune_done_mail(100).ok());
  EXPECT_EQ(list(MailFilter::kAll).size(), 2u);
  ASSERT_TRUE(store_->prune_done_mail(101).ok());
  ASSERT_EQ(list(MailFilter::kAll).size(), 1u);
  EXPECT_EQ(list(MailFilter::kAll)[0].id, sent);
  ASSERT_TRUE(store_->prune_done_mail(301).ok());
  EXPECT_TRUE(list(MailFilter::kAll).empty());
}

// --- write()

TEST_F(StoreTest, WriteCommitsOnSuccess) {
  int64_t id = 0;
  Status st = store_->write([&] {
    CPA_ASSIGN_OR_RETURN(id, store_->insert_user(new_user("w@example.com")));
    return Status();
  });
  ASSERT_TRUE(st.ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM users"), 1);
  EXPECT_EQ(get_user(id).email, "w@example.com");
}

TEST_F(StoreTest, WriteRollsBackOnInternal) {
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("gone@example.com")).status_or_ok());
    return Status::Internal("boom");
  });
  EXPECT_EQ(st.kind(), Status::Kind::kInternal);
  EXPECT_EQ(st.http_status(), 500);
  EXPECT_EQ(st.reason(), "boom");
  auto u = store_->user_by_email_key("gone@example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_value());
  // The connection is usable afterwards (no transaction left open).
  EXPECT_TRUE(store_->write([&] { return store_->insert_user(new_user("next@example.com")).status_or_ok(); }).ok());
  EXPECT_TRUE(store_->user_by_email_key("next@example.com")->has_value());
}

TEST_F(StoreTest, WriteRollsBackOnUnavailable) {
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("gone@example.com")).status_or_ok());
    return Status::Unavailable("pretend");
  });
  EXPECT_EQ(st.http_status(), 503);
  EXPECT_FALSE(store_->user_by_email_key("gone@example.com")->has_value());
}

TEST_F(StoreTest, WriteCommitsWhenTheBodyReturnsABusinessError) {
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("stays@example.com")).status_or_ok());
    return Status::Field("code", "Invalid or expired code.");
  });
  EXPECT_EQ(st.kind(), Status::Kind::kValidation);
  EXPECT_EQ(st.http_status(), 400);
  EXPECT_TRUE(store_->user_by_email_key("stays@example.com")->has_value());

  Status throttled = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->add_throttle_event("login", "x", 1).status_or_ok());
    return Status::Throttled(30);
  });
  EXPECT_EQ(throttled.http_status(), 429);
  EXPECT_EQ(store_->throttle_window("login", "x", 0)->count, 1);
}

TEST_F(StoreTest, AFailedStatementInsideWriteRollsBackTheWholeTransaction) {
  Status st = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("one@example.com")).status_or_ok());
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("one@example.com")).status_or_ok());  // UNIQUE
    return Status();
  });
  EXPECT_TRUE(st.is_storage_failure());
  EXPECT_FALSE(store_->user_by_email_key("one@example.com")->has_value());
}

// --- group commit (the worker's: several requests, one transaction)

TEST_F(StoreTest, AGroupCommitsEveryWriteAtEndGroupAndHooksMailOnce) {
  int hooks = 0;
  store_->set_mail_queued_hook([&] { ++hooks; });
  RawDb other(path_);  // sees committed data only
  store_->begin_group();
  EXPECT_FALSE(store_->group_has_writes());
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(new_user("g1@example.com")).status_or_ok(); }).ok());
  EXPECT_TRUE(store_->group_has_writes());
  ASSERT_TRUE(store_->write([&] { return store_->enqueue_mail(notice("g1@example.com", "s", "b"), 100); }).ok());
  // A business error keeps what its body wrote, as outside a group.
  Status refused = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->add_throttle_event("login", "x", 1).status_or_ok());
    return Status::Throttled(30);
  });
  EXPECT_EQ(refused.http_status(), 429);
  // The group's own reads see its writes; nobody else does yet.
  EXPECT_TRUE(store_->user_by_email_key("g1@example.com")->has_value());
  EXPECT_EQ(other.scalar("SELECT count(*) FROM users"), 0);
  EXPECT_EQ(hooks, 0);

  ASSERT_TRUE(store_->end_group().ok());
  EXPECT_FALSE(store_->group_has_writes());
  EXPECT_EQ(other.scalar("SELECT count(*) FROM users"), 1);
  EXPECT_EQ(other.scalar("SELECT count(*) FROM outbox"), 1);
  EXPECT_EQ(other.scalar("SELECT count(*) FROM throttle_events"), 1);
  EXPECT_EQ(hooks, 1);

  // After the group, write() commits on its own again.
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(new_user("g2@example.com")).status_or_ok(); }).ok());
  EXPECT_EQ(other.scalar("SELECT count(*) FROM users"), 2);
}

TEST_F(StoreTest, AGroupHoldsTheWriterGateUntilEndGroup) {
  std::unique_ptr<Store> impatient = open_store(100);
  ASSERT_NE(impatient, nullptr);
  store_->begin_group();
  // A group without writes takes no lock.
  EXPECT_TRUE(impatient->write([&] { return impatient->insert_user(new_user("a@example.com")).status_or_ok(); }).ok());
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(new_user("b@example.com")).status_or_ok(); }).ok());
  EXPECT_EQ(impatient->write([] { return Status(); }).http_status(), 503);
  ASSERT_TRUE(store_->end_group().ok());
  EXPECT_TRUE(impatient->write([&] { return impatient->insert_user(new_user("c@example.com")).status_or_ok(); }).ok());
}

TEST_F(StoreTest, AStorageFailureInAGroupUndoesThatBodyOnly) {
  store_->begin_group();
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(new_user("first@example.com")).status_or_ok(); }).ok());
  Status failed = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("second@example.com")).status_or_ok());
    return store_->insert_user(new_user("first@example.com")).status_or_ok();  // UNIQUE
  });
  EXPECT_TRUE(failed.is_storage_failure());
  EXPECT_TRUE(store_->group_has_writes());
  ASSERT_TRUE(store_->write([&] { return store_->insert_user(new_user("third@example.com")).status_or_ok(); }).ok());
  ASSERT_TRUE(store_->end_group().ok());
  RawDb other(path_);
  EXPECT_EQ(other.scalar("SELECT count(*) FROM users WHERE email_key IN "
                         "('first@example.com', 'third@example.com')"), 2);
  EXPECT_EQ(other.scalar("SELECT count(*) FROM users"), 2);  // not second@
}

// The transaction cannot follow the file: the whole group is abandoned.
TEST_F(SqliteStoreTest, TheFileGoingAwayDuringAGroupAbandonsIt) {
  int hooks = 0;
  store_->set_mail_queued_hook([&] { ++hooks; });
  store_->begin_group();
  ASSERT_TRUE(store_->write([&] {
                      CPA_RETURN_IF_ERROR(store_->insert_user(new_user("lost@example.com")).status_or_ok());
                      return store_->enqueue_mail(notice("lost@example.com", "s", "b"), 100);
                    }).ok());
  std::string moved = path_ + ".moved";
  ASSERT_EQ(std::rename(path_.c_str(), moved.c_str()), 0);
  EXPECT_EQ(store_->check_file().http_status(), 503);
  EXPECT_FALSE(store_->group_has_writes());
  // Later writes of the group do not run: the group already failed.
  bool ran = false;
  EXPECT_EQ(store_->write([&] { ran = true; return Status(); }).http_status(), 503);
  EXPECT_FALSE(ran);
  EXPECT_EQ(store_->end_group().http_status(), 503);
  EXPECT_EQ(hooks, 0);

  ASSERT_EQ(std::rename(moved.c_str(), path_.c_str()), 0);
  ASSERT_TRUE(store_->check_file().ok());
  EXPECT_FALSE(store_->user_by_email_key("lost@example.com")->has_value());
  EXPECT_TRUE(list(MailFilter::kAll).empty());
  EXPECT_TRUE(store_->write([&] { return store_->insert_user(new_user("lost@example.com")).status_or_ok(); }).ok());
  EXPECT_TRUE(store_->end_group().ok());  // no group: nothing to do
}

// --- the files at rest

int mode_of(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "no file " << path;
    return -1;
  }
  return st.st_mode & 07777;
}

// Sets the umask for the life of the object.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(umask(mask)) {}
  ~Umask() { umask(old_); }

 private:
  mode_t old_;
};

TEST_F(StoreTest, TheDatabaseAndItsFilesAreMode0600WhateverTheUmask) {
  Umask open_to_all(0);
  std::string db = (dir_ / "private.db").string();
  ASSERT_TRUE(Store::migrate(db, 5000).ok());
  auto opened = Store::open(db, 5000);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  ASSERT_TRUE(store.write([&] { return store.enqueue_mail(notice("a@x.co", "s", "b"), 1); }).ok());
  for (const char* suffix : {"", "-wal", "-shm", "-writer.lock"})
    EXPECT_EQ(mode_of(db + suffix), 0600) << suffix;
}

TEST_F(SqliteStoreTest, FilesLeftWithAWiderModeAreNarrowedOnOpen) {
  store_.reset();
  {
    Umask open_to_all(0);
    RawDb raw(path_);  // keeps -wal and -shm in place while we widen them
    ASSERT_EQ(raw.exec("INSERT INTO throttle_events (scope, subject, at) VALUES ('s', 'x', 1)"),
              SQLITE_OK);
    for (const char* suffix : {"", "-wal", "-shm", "-writer.lock"}) {
      std::string path = path_ + suffix;
      if (!fs::exists(path)) {
        FILE* f = fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        fclose(f);
      }
      ASSERT_EQ(chmod(path.c_str(), 0644), 0) << suffix;
    }
    store_ = open_store(5000);
    ASSERT_NE(store_, nullptr);
    for (const char* suffix : {"", "-wal", "-shm", "-writer.lock"})
      EXPECT_EQ(mode_of(path_ + suffix), 0600) << suffix;
  }
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(SqliteStoreTest, APlainBodyOnceSentLeavesNoBytesInTheFiles) {
  ASSERT_TRUE(store_->write([&] {
                      return store_->enqueue_mail(notice("old@x.co", "s", "Your code: 931457"), 100);
                    }).ok());
  int64_t id = list(MailFilter::kAll)[0].id;
  ASSERT_TRUE(store_->checkpoint().ok());
  ASSERT_NE(file_bytes(path_).find("931457"), std::string::npos);  // at rest until sent
  ASSERT_TRUE(store_->write([&] { return store_->mark_mail_sent(id, 200); }).ok());
  auto done = store_->checkpoint();
  ASSERT_TRUE(done.ok() && *done);
  EXPECT_EQ(file_bytes(path_).find("931457"), std::string::npos);
  EXPECT_EQ(file_bytes(path_ + "-wal").find("931457"), std::string::npos);
}

TEST_F(SqliteStoreTest, CheckpointEmptiesTheWal) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(enqueue("wal@x.co", 100 + i).ok());
  ASSERT_GT(fs::file_size(path_ + "-wal"), 0u);
  auto done = store_->checkpoint();
  ASSERT_TRUE(done.ok()) << done.status().reason();
  EXPECT_TRUE(*done);
  EXPECT_EQ(fs::file_size(path_ + "-wal"), 0u);
  EXPECT_EQ(list(MailFilter::kAll).size(), 20u);  // nothing lost: it is in the database now

  // A reader in the middle of a read keeps the WAL: the checkpoint says so
  // (after the busy timeout) and a later one finishes.
  ASSERT_TRUE(enqueue("wal@x.co", 200).ok());
  std::unique_ptr<Store> impatient = open_store(100);
  RawDb reader(path_);
  ASSERT_EQ(reader.exec("BEGIN"), SQLITE_OK);
  ASSERT_EQ(reader.scalar("SELECT count(*) FROM outbox"), 21);
  auto blocked = impatient->checkpoint();
  ASSERT_TRUE(blocked.ok()) << blocked.status().reason();
  EXPECT_FALSE(*blocked);
  ASSERT_EQ(reader.exec("COMMIT"), SQLITE_OK);
  auto later = impatient->checkpoint();
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(*later);
  EXPECT_EQ(fs::file_size(path_ + "-wal"), 0u);
}

// --- the database file going away

TEST_F(SqliteStoreTest, CheckFileAfterTheFileIsRenamedAwayAndBack) {
  int64_t id = add_user("survivor@example.com");
  ASSERT_TRUE(store_->check_file().ok());

  std::string moved = path_ + ".moved";
  ASSERT_EQ(std::rename(path_.c_str(), moved.c_str()), 0);
  Status gone = store_->check_file();
  EXPECT_FALSE(gone.ok());
  EXPECT_EQ(gone.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(gone.http_status(), 503);
  EXPECT_EQ(gone.retry_after(), 5);
  EXPECT_FALSE(fs::exists(path_)) << "check_file must not recreate the database";

  auto query = store_->user_by_id(id);
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().http_status(), 503);
  EXPECT_EQ(store_->mail_counts().status().http_status(), 503);
  EXPECT_EQ(store_->write([] { return Status(); }).http_status(), 503);
  // Still gone on the next check.
  EXPECT_EQ(store_->check_file().http_status(), 503);

  ASSERT_EQ(std::rename(moved.c_str(), path_.c_str()), 0);
  Status back = store_->check_file();
  ASSERT_TRUE(back.ok()) << back.reason();
  EXPECT_TRUE(store_->mail_counts().ok());
  EXPECT_EQ(get_user(id).email, "survivor@example.com");
  EXPECT_TRUE(store_->write([&] { return store_->set_names(id, "A", "B"); }).ok());
  EXPECT_EQ(get_user(id).first_name, "A");
}

TEST_F(SqliteStoreTest, CheckFileReopensAReplacedFile) {
  add_user("old@example.com");
  // Build a different database and move it over the original path.
  std::string other = (dir_ / "other.db").string();
  ASSERT_TRUE(Store::migrate(other, 5000).ok());
  {
    auto o = Store::open(other, 5000);
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE((*o)->insert_user(new_user("new@example.com")).ok());
  }
  ASSERT_EQ(std::rename(other.c_str(), path_.c_str()), 0);
  std::error_code ec;
  fs::remove(path_ + "-wal", ec);
  fs::remove(path_ + "-shm", ec);
  ASSERT_TRUE(store_->check_file().ok());
  EXPECT_TRUE(store_->user_by_email_key("new@example.com")->has_value());
  EXPECT_FALSE(store_->user_by_email_key("old@example.com")->has_value());
}

// --- PostgreSQL: the server ending the session

// A server restart (or pg_terminate_backend) closes an idle connection; the
// next check_file() notices and reconnects, so the first request after the
// server is back is served rather than answered 503.
TEST_F(PgStoreTest, CheckFileReconnectsWhenTheServerEndedAnIdleSession) {
  int64_t id = add_user("survivor@example.com");
  ASSERT_TRUE(store_->check_file().ok());
  RawDb admin(path_);
  // The store's session, ended, and waited for until its process is gone
  // (the timeout argument, PostgreSQL 14+): its socket is closed.
  std::vector<std::string> ended = admin.rows(
      "SELECT pg_terminate_backend(pid, 60000) FROM pg_stat_activity "
      "WHERE application_name = 'cryptopay-auth' AND pid <> pg_backend_pid()");
  ASSERT_EQ(ended, std::vector<std::string>{"t"});
  Status back = store_->check_file();
  ASSERT_TRUE(back.ok()) << back.reason();
  EXPECT_EQ(get_user(id).email, "survivor@example.com");
  EXPECT_TRUE(store_->write([&] { return store_->set_names(id, "A", "B"); }).ok());
}

// --- a second writer holding the lock: 503, not 500

TEST_F(StoreTest, WriteIsUnavailableWhileAnotherConnectionHoldsTheWriteLock) {
  std::unique_ptr<Store> impatient = open_store(100);
  ASSERT_NE(impatient, nullptr);
  int64_t id = add_user("locked@example.com");

  RawDb other(path_);
  ASSERT_EQ(other.hold_write_lock(), SQLITE_OK);

  bool body_ran = false;
  auto start = std::chrono::steady_clock::now();
  Status st = impatient->write([&] {
    body_ran = true;
    return Status();
  });
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(body_ran);
  EXPECT_EQ(st.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(st.http_status(), 503);
  EXPECT_GT(st.retry_after(), 0);
  EXPECT_GE(waited, std::chrono::milliseconds(80));
  EXPECT_LT(waited, std::chrono::seconds(3));

  // A write outside write() (autocommit) is refused the same way on SQLite
  // (PostgreSQL's lock is taken by write() alone: every write goes through it).
  if (!database_.postgresql()) {
    Status direct = impatient->set_names(id, "x", "y");
    EXPECT_EQ(direct.kind(), Status::Kind::kUnavailable);
    EXPECT_EQ(direct.http_status(), 503);
  }

  // Readers are not blocked (WAL).
  auto read = impatient->user_by_id(id);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->has_value());

  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE(impatient->write([&] { return impatient->set_names(id, "x", "y"); }).ok());
  EXPECT_EQ(get_user(id).first_name, "x");
}

TEST_F(StoreTest, WriteIsUnavailableWhileAnotherStoreIsInsideWrite) {
  std::unique_ptr<Store> impatient = open_store(100);
  ASSERT_NE(impatient, nullptr);
  Status inner;
  Status outer = store_->write([&] {
    CPA_RETURN_IF_ERROR(store_->insert_user(new_user("outer@example.com")).status_or_ok());
    inner = impatient->write([&] { return impatient->insert_user(new_user("inner@example.com")).status_or_ok(); });
    return Status();
  });
  ASSERT_TRUE(outer.ok()) << outer.reason();
  EXPECT_EQ(inner.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(inner.http_status(), 503);
  EXPECT_TRUE(store_->user_by_email_key("outer@example.com")->has_value());
  EXPECT_FALSE(store_->user_by_email_key("inner@example.com")->has_value());
}

}  // namespace
}  // namespace cpa::store
