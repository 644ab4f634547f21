#include "store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <string_view>

#include "core/config.h"
#include "store/db.h"

namespace cpa::store {

extern const std::string_view kSchemaSql;    // generated from schema.sql
extern const std::string_view kPgSchemaSql;  // generated from schema.postgresql.sql

namespace {

// schema.sql creates the current schema in an empty database. A database
// made by an older binary is brought forward by the steps below, in order:
// kUpgrades[v - 1] takes version v to v + 1. Forward only; a database newer
// than the binary is refused.
constexpr const char* kUpgrades[] = {
    // 1 -> 2. Issue 10, the security review.
    "ALTER TABLE users ADD COLUMN verified_ip TEXT;"
    "CREATE TABLE code_decoys (email_key TEXT NOT NULL, purpose TEXT NOT NULL, "
    "code_hash TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, "
    "attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (email_key, purpose));"
    // Rows queued before this step are plain notices to the mailer: they
    // name no code and are not sealed, so they are delivered as before.
    "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'notice';"
    "ALTER TABLE outbox ADD COLUMN code_user_id INTEGER;"
    "ALTER TABLE outbox ADD COLUMN code_purpose TEXT;"
    "ALTER TABLE outbox ADD COLUMN code_hash TEXT;"
    "ALTER TABLE outbox ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;"
    "DROP INDEX outbox_due;"
    "CREATE INDEX outbox_due ON outbox (status, kind, next_attempt_at);"
    // Issue 12, sessions. Every family that still has an unrevoked
    // refresh token becomes a session, so that logins made before the upgrade
    // are listed: created at its first token, last used at its latest, its
    // newest unrevoked refresh token; address and user agent unknown. (An
    // expired one is not listed, and goes with its tokens when they are pruned.)
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, "
    "user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, "
    "refresh_jti TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL, "
    "ip TEXT NOT NULL DEFAULT '', user_agent TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions (user_id, last_used_at);"
    "INSERT INTO sessions (id, user_id, refresh_jti, created_at, last_used_at, ip, user_agent) "
    "SELECT family, user_id, newest, created_at, last_used_at, '', '' FROM ("
    " SELECT t.family, min(t.user_id) AS user_id, min(t.issued_at) AS created_at,"
    " max(t.issued_at) AS last_used_at,"
    " (SELECT r.jti FROM tokens r WHERE r.family = t.family AND r.token_type = 'refresh'"
    "  AND r.revoked_at IS NULL ORDER BY r.issued_at DESC, r.jti DESC LIMIT 1) AS newest"
    " FROM tokens t GROUP BY t.family)"
    " WHERE newest IS NOT NULL;"
    // `rotated` now means "revoked by its rotation alone" (the reuse grace
    // trusts it): a family revoked since (it has a revoked token that was not
    // rotated, its access token at least) keeps no merely rotated token.
    "UPDATE tokens SET rotated = 0 WHERE rotated = 1 AND family IN "
    "(SELECT family FROM tokens WHERE revoked_at IS NOT NULL AND rotated = 0);",
    // 2 -> 3. Issue 14, fewer B-trees per token: tokens rebuilt WITHOUT ROWID
    // with one index (user, family) instead of three, every row kept as it
    // was, so every live token and every session (which names its refresh
    // token's jti and its family, not a rowid) stays valid. Rows made before
    // this step have a jti that begins with their issue time, never after
    // their expiry, so pruning by the key's expiry prefix still finds them.
    // Nothing references tokens, so dropping it deletes no other row.
    "CREATE TABLE tokens_v3 (jti TEXT PRIMARY KEY, "
    "user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, "
    "token_type TEXT NOT NULL, family TEXT NOT NULL, issued_at INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL, revoked_at INTEGER, rotated INTEGER NOT NULL DEFAULT 0) "
    "WITHOUT ROWID;"
    "INSERT INTO tokens_v3 (jti, user_id, token_type, family, issued_at, expires_at, "
    "revoked_at, rotated) SELECT jti, user_id, token_type, family, issued_at, expires_at, "
    "revoked_at, rotated FROM tokens;"
    "DROP TABLE tokens;"
    "ALTER TABLE tokens_v3 RENAME TO tokens;"
    "CREATE INDEX tokens_user ON tokens (user_id, family);",
};
constexpr int kSchemaVersion = 1 + static_cast<int>(std::size(kUpgrades));

// PostgreSQL came with version 3: schema.postgresql.sql creates the current
// schema, and kPgUpgrades[v - kPgFirstVersion] takes version v to v + 1 (the
// same versions as SQLite's: one logical schema, two spellings).
constexpr int kPgFirstVersion = 3;
constexpr const char* kPgUpgrades[] = {nullptr};  // none yet
constexpr int kPgUpgradeCount = 0;
static_assert(kPgFirstVersion + kPgUpgradeCount == kSchemaVersion,
              "a schema change needs its PostgreSQL upgrade step too");

}  // namespace

int Store::schema_version() { return kSchemaVersion; }

Result<int64_t> Store::schema_version_at(const std::string& path, int busy_timeout_ms) {
  if (is_postgresql_url(path)) {
    // kCreate: a failure to connect is the answer (PostgreSQL creates nothing).
    CPA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                         Db::open(path, busy_timeout_ms, Creation::kCreate));
    return db->schema_version();
  }
  // Even read-only, SQLite would create the -wal and -shm files a stopped
  // service removed. Without a -wal the file alone is the whole database:
  // it is then read as immutable, which creates nothing.
  struct stat st;
  bool has_wal = stat((path + "-wal").c_str(), &st) == 0;
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char hex[4];
      snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      uri += hex;
    } else {
      uri += c;
    }
  }
  uri += has_wal ? "?mode=ro" : "?mode=ro&immutable=1";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close_v2);
  auto failed = [&] { return Status::Unavailable(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)); };
  if (rc != SQLITE_OK) return failed();
  sqlite3_busy_timeout(db, busy_timeout_ms);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr) != SQLITE_OK)
    return failed();
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) return failed();
  return static_cast<int64_t>(sqlite3_column_int64(stmt.get(), 0));
}

Store::Store(std::unique_ptr<Db> db) : db_(std::move(db)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path, int busy_timeout_ms) {
  CPA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                       Db::open(path, busy_timeout_ms, Creation::kOpenExisting));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Status Store::migrate(const std::string& path, int busy_timeout_ms) {
  CPA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::open(path, busy_timeout_ms, Creation::kCreate));
  const bool postgresql = is_postgresql_url(path);
  // The common case, a current schema, takes no write lock: commands that only
  // read keep working while a writer holds it.
  CPA_ASSIGN_OR_RETURN(int64_t version, db->schema_version());
  if (version == kSchemaVersion) return Status();
  // Under the write lock: another process (another node) may have migrated.
  CPA_RETURN_IF_ERROR(db->begin_write());
  Result<int64_t> locked_version = db->schema_version();
  Status st = locked_version.status_or_ok();
  if (st.ok() && *locked_version > kSchemaVersion) {
    st = Status::Internal("database schema version " + std::to_string(*locked_version) +
                          " is newer than this binary's " + std::to_string(kSchemaVersion));
  } else if (st.ok() && *locked_version < kSchemaVersion) {
    if (*locked_version == 0) {
      std::string sql(postgresql ? kPgSchemaSql : kSchemaSql);
      st = db->exec(sql.c_str());
    } else if (postgresql) {
      for (int64_t v = *locked_version; st.ok() && v < kSchemaVersion; ++v)
        st = v < kPgFirstVersion ? Status::Internal("no PostgreSQL schema before version " +
                                                    std::to_string(kPgFirstVersion))
                                 : db->exec(kPgUpgrades[v - kPgFirstVersion]);
    } else {
      for (int64_t v = *locked_version; st.ok() && v < kSchemaVersion; ++v)
        st = db->exec(kUpgrades[v - 1]);
    }
    if (st.ok()) st = db->set_schema_version(kSchemaVersion);
  }
  if (!st.ok()) {
    db->exec("ROLLBACK");
    return st;
  }
  return db->exec("COMMIT");
}

Status Store::write(const std::function<Status()>& body) {
  if (grouping_) return write_in_group(body);
  CPA_RETURN_IF_ERROR(db_->lock_writer());
  Status st = write_locked(body);
  db_->unlock_writer();
  if (mail_queued_ && mail_hook_) mail_hook_();  // after unlocking: the mailer will want it
  mail_queued_ = false;
  return st;
}

Status Store::write_locked(const std::function<Status()>& body) {
  CPA_RETURN_IF_ERROR(db_->begin_write());
  mail_queued_ = false;
  Status st = body();
  if (st.is_storage_failure()) {
    db_->exec("ROLLBACK");
    mail_queued_ = false;
    return st;
  }
  Status committed = commit();
  if (!committed.ok()) {
    db_->exec("ROLLBACK");
    mail_queued_ = false;
    return committed;
  }
  return st;
}

Status Store::write_in_group(const std::function<Status()>& body) {
  if (!group_failure_.ok()) return group_failure_;
  if (!group_open_) {
    CPA_RETURN_IF_ERROR(db_->lock_writer());
    Status begun = db_->begin_write();
    if (!begun.ok()) {
      db_->unlock_writer();
      return begun;
    }
    group_open_ = true;
  } else if (!db_->in_transaction()) {
    // A read of an earlier request hit an I/O error and SQLite rolled the
    // group back: a savepoint now would start, and commit, a transaction of
    // its own.
    Status gone = Status::Unavailable("the group's transaction is gone");
    abandon_group(gone);
    return gone;
  }
  // Each body in a savepoint: a storage failure undoes that body only, as
  // write_locked() would, and the rest of the group stands. A business error
  // keeps what the body changed.
  Status st = db_->run("SAVEPOINT request");
  if (!st.ok()) {
    abandon_group(st);
    return st;
  }
  const bool mail_queued_before = mail_queued_;
  Status outcome = body();
  if (outcome.is_storage_failure()) {
    // After an I/O error SQLite may have rolled the whole transaction back.
    Status undone = db_->in_transaction() ? db_->exec("ROLLBACK TO request")
                                          : Status::Unavailable("the group's transaction is gone");
    if (!undone.ok()) {
      abandon_group(outcome);
      return outcome;
    }
    mail_queued_ = mail_queued_before;  // its mail went with it
  }
  st = db_->run("RELEASE request");
  if (!st.ok()) {
    abandon_group(st);
    return st;
  }
  return outcome;
}

Status Store::commit() {
  // Other nodes' mailers are told at the commit (NOTIFY is delivered then),
  // once per transaction however many mails it queued.
  if (mail_queued_) CPA_RETURN_IF_ERROR(db_->notify_mail_queued());
  return db_->run("COMMIT");
}

void Store::abandon_group(const Status& why) {
  db_->exec("ROLLBACK");
  db_->unlock_writer();
  group_open_ = false;
  mail_queued_ = false;
  group_failure_ = why;
}

Status Store::end_group() {
  grouping_ = false;
  Status st = group_failure_;
  group_failure_ = Status();
  if (group_open_) {
    Status committed = commit();
    if (!committed.ok()) {
      db_->exec("ROLLBACK");
      mail_queued_ = false;
      st = committed;
    }
    db_->unlock_writer();
    group_open_ = false;
  }
  if (mail_queued_ && mail_hook_) mail_hook_();
  mail_queued_ = false;
  return st;
}

Result<bool> Store::checkpoint() { return db_->checkpoint(); }

Status Store::check_file() {
  if (!group_open_) return db_->check();
  if (db_->unchanged()) return Status();
  // Reopening would leave the group's transaction behind on the old file.
  Status gone = Status::Unavailable("database file changed during a group commit");
  abandon_group(gone);
  return gone;
}


}  // namespace cpa::store
