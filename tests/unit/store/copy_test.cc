// Store::copy_into: a SQLite database copied into PostgreSQL, every table
// read back through the Store on both sides. It needs both engines at once,
// so it runs only in the pg CTest entry (pg_store_and_api_units, through
// tests/pg/postgres.py), and FAILS rather than skips without a server:
// tests/CMakeLists.txt keeps it out of the SQLite entries.
#include "store/store.h"

#include "unit/scratch_dir.h"
#include "unit/test_database.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cpa::store {
namespace {

using cpa::testing::RawDb;
using cpa::testing::TestDatabase;

// Sealed bytes are not text: NULs, invalid UTF-8, every byte value.
std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

class CopyToPostgresqlTest : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-copy"};  // first: removed last
  std::unique_ptr<TestDatabase> target_;
  std::string source_path_;
  std::unique_ptr<Store> source_;

  void SetUp() override {
    ASSERT_NE(cpa::testing::postgresql_server(), nullptr)
        << "CPA_TEST_POSTGRESQL is not set: this suite copies into PostgreSQL and runs in the "
           "pg_store_and_api_units CTest entry, which starts a server (tests/pg/postgres.py)";
    target_ = std::make_unique<TestDatabase>(scratch_.path());
    ASSERT_TRUE(target_->postgresql());
    source_path_ = (scratch_.path() / "source.db").string();
    Status st = Store::migrate(source_path_, 5000);
    ASSERT_TRUE(st.ok()) << st.reason();
    source_ = open(source_path_);
    ASSERT_NE(source_, nullptr);
  }

  static std::unique_ptr<Store> open(const std::string& location) {
    auto opened = Store::open(location, 5000);
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.status().reason());
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  CopyReport copy(const std::string& url) {
    Result<CopyReport> r = source_->copy_into(url, 5000);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.status().reason());
    if (r.ok()) return *r;
    CopyReport failed;
    failed.refused = "(failed)";
    return failed;
  }

  int64_t add_user(const std::string& email, int64_t joined) {
    Result<int64_t> id = source_->insert_user(new_user(email, joined));
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
  }

  static Token token(const std::string& jti, int64_t user, const std::string& type,
                     const std::string& family, int64_t issued) {
    Token t;
    t.jti = jti;
    t.user_id = user;
    t.token_type = type;
    t.family = family;
    t.issued_at = issued;
    t.expires_at = issued + 86400;
    return t;
  }

  static Code code(int64_t user, const std::string& purpose, const std::string& hash,
                   int64_t created) {
    Code c;
    c.user_id = user;
    c.purpose = purpose;
    c.code_hash = hash;
    c.created_at = created;
    c.expires_at = created + 600;
    return c;
  }

  static Session session(const std::string& id, int64_t user, const std::string& refresh_jti,
                         int64_t created, int64_t used, const std::string& ip,
                         const std::string& user_agent) {
    Session s;
    s.id = id;
    s.user_id = user;
    s.refresh_jti = refresh_jti;
    s.created_at = created;
    s.last_used_at = used;
    s.ip = ip;
    s.user_agent = user_agent;
    return s;
  }

  static NewUser new_user(const std::string& email, int64_t joined) {
    NewUser u;
    u.email = email;
    u.email_key = email;
    u.terms_accepted = true;
    u.date_joined = joined;
    return u;
  }

  void ok(const Status& st) { ASSERT_TRUE(st.ok()) << st.reason(); }

  // A deployment as the service leaves one: three accounts (one with a PIN
  // and strikes), a deleted one, codes, a decoy, throttle events, sessions
  // with a rotation and a logout, and mail sent, pending and failed.
  struct Filled {
    int64_t ann = 0, bob = 0, cid = 0, deleted = 0;
    int64_t sent_mail = 0, code_mail = 0, failed_mail = 0;
    int64_t last_event = 0;
  };
  Filled fill() {
    Filled f;
    f.ann = add_user("ann@example.com", 1000);
    f.bob = add_user("bob@example.com", 1001);
    f.cid = add_user("cid@example.com", 1002);
    f.deleted = add_user("gone@example.com", 1003);
    std::optional<User> gone = user(*source_, f.deleted);
    EXPECT_TRUE(gone.has_value());
    Status st = source_->write([&]() -> Status {
      CPA_RETURN_IF_ERROR(source_->mark_email_verified(f.ann, 1100, "192.0.2.7"));
      CPA_RETURN_IF_ERROR(source_->set_password(f.ann, "pbkdf2_sha256$1000$salt$hash-ann",
                                                Activation::kActivate));
      CPA_RETURN_IF_ERROR(source_->set_names(f.ann, "Ann", "Ångström"));
      CPA_RETURN_IF_ERROR(source_->set_pin(f.ann, "pbkdf2_sha256$1000$salt$pin-ann"));
      CPA_RETURN_IF_ERROR(source_->set_pin_strikes(f.ann, 2, 5000));
      CPA_RETURN_IF_ERROR(source_->set_last_login(f.ann, 1200));
      CPA_RETURN_IF_ERROR(source_->mark_email_verified(f.bob, 1101, "198.51.100.1"));
      CPA_RETURN_IF_ERROR(source_->set_password(f.bob, "pbkdf2_sha256$1000$salt$hash-bob",
                                                Activation::kActivate));
      CPA_RETURN_IF_ERROR(source_->set_active(f.bob, Active::kNo));
      // cid: registered, never verified, a live code and its mail pending.
      CPA_RETURN_IF_ERROR(source_->put_code(code(f.cid, "email_verification", "cafe01", 1300)));
      Code change = code(f.ann, "email_change", "cafe02", 1301);
      change.new_email = "ann@new.example";
      CPA_RETURN_IF_ERROR(source_->put_code(change));
      CPA_RETURN_IF_ERROR(source_->set_code_attempts(f.ann, "email_change", 2));
      CPA_RETURN_IF_ERROR(source_->mark_code_used(f.ann, "email_change", 1350));
      CPA_RETURN_IF_ERROR(
          source_->put_code_decoy("nobody@example.com", code(0, "password_reset", "dec0", 1302)));
      CPA_RETURN_IF_ERROR(
          source_->set_code_decoy_attempts("nobody@example.com", "password_reset", 1));
      for (int64_t at : {1400, 1401, 1402}) {
        CPA_ASSIGN_OR_RETURN(f.last_event, source_->add_throttle_event("login", "ann@example.com", at));
      }
      CPA_RETURN_IF_ERROR(source_->enqueue_mail(
          OutboxMail{.recipient = "ann@example.com", .subject = all_bytes(),
                     .body = std::string("\0\xff\xfe sealed", 10), .sealed = true},
          1500));
      CPA_RETURN_IF_ERROR(source_->enqueue_mail(
          OutboxMail{.recipient = "cid@example.com", .subject = "s", .body = all_bytes(),
                     .sealed = true,
                     .code = CodeRef{f.cid, "email_verification", "cafe01"}},
          1501));
      CPA_RETURN_IF_ERROR(source_->enqueue_mail(
          OutboxMail{.recipient = "bob@example.com", .subject = "plain", .body = "plain body"},
          1502));
      // Sessions: ann logs in twice; one session rotated, the other logged out.
      CPA_RETURN_IF_ERROR(source_->insert_token(token("r1", f.ann, "refresh", "r1", 1600)));
      CPA_RETURN_IF_ERROR(source_->insert_token(token("a1", f.ann, "access", "r1", 1600)));
      CPA_RETURN_IF_ERROR(
          source_->touch_session(session("r1", f.ann, "r1", 1600, 1600, "192.0.2.7", "Café/1.0")));
      CPA_ASSIGN_OR_RETURN(bool rotated, source_->rotate_token("r1", 1700));
      if (!rotated) return Status::Internal("r1 did not rotate");
      CPA_RETURN_IF_ERROR(source_->insert_token(token("r2", f.ann, "refresh", "r1", 1700)));
      CPA_RETURN_IF_ERROR(
          source_->touch_session(session("r1", f.ann, "r2", 1600, 1700, "192.0.2.8", "Café/1.1")));
      CPA_RETURN_IF_ERROR(source_->insert_token(token("r3", f.ann, "refresh", "r3", 1800)));
      CPA_RETURN_IF_ERROR(source_->touch_session(session("r3", f.ann, "r3", 1800, 1800, "", "")));
      CPA_ASSIGN_OR_RETURN(int64_t revoked, source_->revoke_family(f.ann, "r3", 1850));
      if (revoked != 1) return Status::Internal("r3 was not revoked");
      CPA_RETURN_IF_ERROR(source_->insert_token(token("b1", f.bob, "refresh", "b1", 1801)));
      return gone ? source_->delete_user(*gone) : Status::Internal("no user to delete");
    });
    EXPECT_TRUE(st.ok()) << st.reason();
    auto mail = source_->list_mail(MailFilter::kAll, 100);
    EXPECT_TRUE(mail.ok());
    if (mail.ok() && mail->size() == 3) {
      // Newest first.
      f.failed_mail = (*mail)[0].id;
      f.code_mail = (*mail)[1].id;
      f.sent_mail = (*mail)[2].id;
    }
    ok(source_->mark_mail_sent(f.sent_mail, 1510));
    ok(source_->mark_mail_failed(f.failed_mail, 5, "550 no such user"));
    return f;
  }

  static std::optional<User> user(Store& s, int64_t id) {
    auto u = s.user_by_id(id);
    EXPECT_TRUE(u.ok());
    return u.ok() ? *u : std::nullopt;
  }
};

void expect_same(const User& a, const User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.email_key, b.email_key);
  EXPECT_EQ(a.password, b.password);
  EXPECT_EQ(a.first_name, b.first_name);
  EXPECT_EQ(a.last_name, b.last_name);
  EXPECT_EQ(a.terms_accepted, b.terms_accepted);
  EXPECT_EQ(a.email_verified, b.email_verified);
  EXPECT_EQ(a.verified_at, b.verified_at);
  EXPECT_EQ(a.is_active, b.is_active);
  EXPECT_EQ(a.is_staff, b.is_staff);
  EXPECT_EQ(a.is_superuser, b.is_superuser);
  EXPECT_EQ(a.date_joined, b.date_joined);
  EXPECT_EQ(a.last_login, b.last_login);
  EXPECT_EQ(a.pin_hash, b.pin_hash);
  EXPECT_EQ(a.pin_failures, b.pin_failures);
  EXPECT_EQ(a.pin_locked_until, b.pin_locked_until);
  EXPECT_EQ(a.pin_reset_until, b.pin_reset_until);
}

void expect_same(const Mail& a, const Mail& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.recipient, b.recipient);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.sent_at, b.sent_at);
  EXPECT_EQ(a.code.has_value(), b.code.has_value());
  if (a.code && b.code) {
    EXPECT_EQ(a.code->user_id, b.code->user_id);
    EXPECT_EQ(a.code->purpose, b.code->purpose);
    EXPECT_EQ(a.code->code_hash, b.code->code_hash);
  }
  EXPECT_EQ(a.sealed, b.sealed);
}

TEST_F(CopyToPostgresqlTest, EveryTableArrivesAsItWasAndNewIdsComeAfterTheOldOnes) {
  Filled f = fill();
  CopyReport report = copy(target_->location());
  ASSERT_EQ(report.refused, "");
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const TableCount& t : report.tables) counts.emplace_back(t.table, t.rows);
  EXPECT_EQ(counts, (std::vector<std::pair<std::string, int64_t>>{
                        {"users", 3}, {"codes", 2}, {"code_decoys", 1}, {"throttle_events", 3},
                        {"tokens", 5}, {"sessions", 2}, {"outbox", 3}}));
  // Analyzed at once: the service's first plans see the rows.
  RawDb raw(target_->location());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM pg_stat_user_tables "
                       "WHERE schemaname = current_schema()"), 8);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM pg_stat_user_tables "
                       "WHERE schemaname = current_schema() AND last_analyze IS NULL"), 0);

  std::unique_ptr<Store> target = open(target_->location());
  ASSERT_NE(target, nullptr);
  for (int64_t id : {f.ann, f.bob, f.cid}) {
    SCOPED_TRACE("user " + std::to_string(id));
    std::optional<User> before = user(*source_, id), after = user(*target, id);
    ASSERT_TRUE(before && after);
    expect_same(*before, *after);
    EXPECT_EQ(*source_->verified_ip(id), *target->verified_ip(id));
  }
  EXPECT_EQ(*target->verified_ip(f.ann), "192.0.2.7");
  EXPECT_EQ(user(*target, f.ann)->pin_failures, 2);
  EXPECT_FALSE(user(*target, f.deleted).has_value());

  for (const auto& [id, purpose] : std::vector<std::pair<int64_t, std::string>>{
           {f.cid, "email_verification"}, {f.ann, "email_change"}}) {
    auto before = source_->code_for(id, purpose), after = target->code_for(id, purpose);
    ASSERT_TRUE(before.ok() && after.ok() && *before && *after);
    EXPECT_EQ((*after)->code_hash, (*before)->code_hash);
    EXPECT_EQ((*after)->new_email, (*before)->new_email);
    EXPECT_EQ((*after)->created_at, (*before)->created_at);
    EXPECT_EQ((*after)->expires_at, (*before)->expires_at);
    EXPECT_EQ((*after)->attempts, (*before)->attempts);
    EXPECT_EQ((*after)->used_at, (*before)->used_at);
  }
  auto change = target->code_for(f.ann, "email_change");
  ASSERT_TRUE(change.ok() && *change);
  EXPECT_EQ((*change)->new_email, "ann@new.example");
  EXPECT_EQ((*change)->attempts, 2);
  EXPECT_EQ((*change)->used_at, 1350);
  auto decoy = target->code_decoy_for("nobody@example.com", "password_reset");
  ASSERT_TRUE(decoy.ok() && *decoy);
  EXPECT_EQ((*decoy)->code_hash, "dec0");
  EXPECT_EQ((*decoy)->attempts, 1);
  EXPECT_EQ((*decoy)->expires_at, 1902);  // created 1302, for 600 s

  auto window = target->throttle_window("login", "ann@example.com", 0);
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->count, 3);
  EXPECT_EQ(window->oldest, 1400);
  EXPECT_EQ(window->newest, 1402);

  for (const char* jti : {"r1", "a1", "r2", "r3", "b1"}) {
    SCOPED_TRACE(jti);
    auto before = source_->token_with_user(jti), after = target->token_with_user(jti);
    ASSERT_TRUE(before.ok() && after.ok() && *before && *after);
    const Token &b = (*before)->first, &a = (*after)->first;
    EXPECT_EQ(a.user_id, b.user_id);
    EXPECT_EQ(a.token_type, b.token_type);
    EXPECT_EQ(a.family, b.family);
    EXPECT_EQ(a.issued_at, b.issued_at);
    EXPECT_EQ(a.expires_at, b.expires_at);
    EXPECT_EQ(a.revoked_at, b.revoked_at);
    EXPECT_EQ(a.rotated, b.rotated);
  }
  // The rotation and the logout as they were: r1 merely rotated (the reuse
  // grace's condition), r3 revoked for good, r2 live.
  EXPECT_TRUE((*target->token_with_user("r1"))->first.rotated);
  EXPECT_EQ((*target->token_with_user("r3"))->first.revoked_at, 1850);
  EXPECT_FALSE((*target->token_with_user("r3"))->first.rotated);
  EXPECT_FALSE((*target->token_with_user("r2"))->first.revoked_at.has_value());

  auto sessions = target->live_sessions(f.ann, 2000, 0, 10);
  ASSERT_TRUE(sessions.ok());
  ASSERT_EQ(sessions->size(), 1u);  // r3's was logged out
  EXPECT_EQ((*sessions)[0].id, "r1");
  EXPECT_EQ((*sessions)[0].refresh_jti, "r2");
  EXPECT_EQ((*sessions)[0].created_at, 1600);
  EXPECT_EQ((*sessions)[0].last_used_at, 1700);
  EXPECT_EQ((*sessions)[0].ip, "192.0.2.8");
  EXPECT_EQ((*sessions)[0].user_agent, "Café/1.1");

  for (int64_t id : {f.sent_mail, f.code_mail, f.failed_mail}) {
    SCOPED_TRACE("mail " + std::to_string(id));
    auto before = source_->mail_by_id(id), after = target->mail_by_id(id);
    ASSERT_TRUE(before.ok() && after.ok() && *before && *after);
    expect_same(**before, **after);
  }
  EXPECT_EQ((*target->mail_by_id(f.code_mail))->body, all_bytes());  // byte for byte
  EXPECT_EQ((*target->mail_by_id(f.failed_mail))->status, "failed");

  // New rows: ids after the copied ones, and after the deleted user's.
  Result<int64_t> id = target->insert_user(new_user("new@example.com", 3000));
  ASSERT_TRUE(id.ok()) << id.status().reason();
  EXPECT_EQ(*id, f.deleted + 1);
  Result<int64_t> event = target->add_throttle_event("login", "x", 3000);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event, f.last_event + 1);
  ok(target->write([&] {
    return target->enqueue_mail(OutboxMail{.recipient = "new@example.com", .subject = "s",
                                           .body = "b"},
                                3000);
  }));
  auto newest = target->list_mail(MailFilter::kAll, 1);
  ASSERT_TRUE(newest.ok() && newest->size() == 1);
  EXPECT_EQ((*newest)[0].id, f.failed_mail + 1);
}

TEST_F(CopyToPostgresqlTest, AnEmptyDatabaseCopiesAndNewIdsStartAtOne) {
  CopyReport report = copy(target_->location());
  ASSERT_EQ(report.refused, "");
  ASSERT_EQ(report.tables.size(), 7u);
  for (const TableCount& t : report.tables) EXPECT_EQ(t.rows, 0) << t.table;
  std::unique_ptr<Store> target = open(target_->location());
  Result<int64_t> id = target->insert_user(new_user("a@example.com", 1));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1);
}

TEST_F(CopyToPostgresqlTest, ATargetWithRowsIsRefusedAndKeepsThem) {
  fill();
  ASSERT_EQ(copy(target_->location()).refused, "");
  // Again into the same database: it holds rows now.
  add_user("later@example.com", 4000);
  CopyReport again = copy(target_->location());
  EXPECT_EQ(again.refused, "the target database is not empty: its users table has 3 row(s)");
  EXPECT_TRUE(again.tables.empty());
  RawDb raw(target_->location());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM users"), 3);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM users WHERE email = 'later@example.com'"), 0);
}

TEST_F(CopyToPostgresqlTest, ATargetWithOtherTablesIsRefusedUntouched) {
  fill();
  RawDb raw(target_->location());
  ASSERT_EQ(raw.exec("CREATE TABLE invoices (id INTEGER)"), 0);
  CopyReport report = copy(target_->location());
  EXPECT_EQ(report.refused,
            "the target database is not empty: it has 1 table(s) and is not a cryptopay-auth "
            "database");
  // Not even the schema was created beside the foreign table.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 1);
}

TEST_F(CopyToPostgresqlTest, AFailureHalfwayLeavesTheTargetEmpty) {
  fill();
  // A flag PostgreSQL's BOOLEAN cannot take, in the tokens: users, codes and
  // the rest are inserted before it fails.
  {
    RawDb raw(source_path_);
    ASSERT_EQ(raw.exec("UPDATE tokens SET rotated = 7 WHERE jti = 'b1'"), 0);
  }
  Result<CopyReport> r = source_->copy_into(target_->location(), 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("boolean"), std::string::npos) << r.status().reason();
  RawDb raw(target_->location());
  for (const char* sql : {"SELECT count(*) FROM users", "SELECT count(*) FROM codes",
                          "SELECT count(*) FROM throttle_events", "SELECT count(*) FROM tokens"})
    EXPECT_EQ(raw.scalar(sql), 0) << sql;
  // Fixed, it copies: the failed attempt left nothing in the way.
  {
    RawDb source(source_path_);
    ASSERT_EQ(source.exec("UPDATE tokens SET rotated = 0 WHERE jti = 'b1'"), 0);
  }
  EXPECT_EQ(copy(target_->location()).refused, "");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM users"), 3);
}

TEST_F(CopyToPostgresqlTest, AColumnTheCopyDoesNotKnowStopsIt) {
  fill();
  {
    RawDb raw(source_path_);
    ASSERT_EQ(raw.exec("ALTER TABLE tokens ADD COLUMN note TEXT"), 0);
  }
  Result<CopyReport> r = source_->copy_into(target_->location(), 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(),
            "migrate-data copies 8 columns of tokens, SQLite has 9: store/copy.cc is behind the "
            "schema");
  RawDb raw(target_->location());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM users"), 0);
}

TEST_F(CopyToPostgresqlTest, ATableTheCopyDoesNotKnowStopsIt) {
  {
    RawDb raw(source_path_);
    ASSERT_EQ(raw.exec("CREATE TABLE devices (id INTEGER PRIMARY KEY)"), 0);
  }
  Result<CopyReport> r = source_->copy_into(target_->location(), 5000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(),
            "migrate-data copies 7 tables, SQLite has 8: store/copy.cc is behind the schema");
}

TEST_F(CopyToPostgresqlTest, ASourceAtAnotherSchemaVersionIsRefused) {
  {
    RawDb raw(source_path_);
    ASSERT_EQ(raw.set_schema_version(Store::schema_version() - 1), 0);
  }
  CopyReport report = copy(target_->location());
  EXPECT_EQ(report.refused, "the SQLite database is at schema version " +
                                std::to_string(Store::schema_version() - 1) +
                                ", this binary's is " + std::to_string(Store::schema_version()) +
                                ": migrate it first");
  RawDb raw(target_->location());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 0);
}

TEST_F(CopyToPostgresqlTest, OnlyIntoPostgresql) {
  CopyReport report = copy((scratch_.path() / "other.db").string());
  EXPECT_EQ(report.refused, "the database to copy into must be a postgresql:// URL");
}

}  // namespace
}  // namespace cpa::store
