// Db: one connection to the database, SQLite or PostgreSQL, with its
// prepared statements (one per process). Only the store layer (store/*.cc)
// uses this header.
//
// The store's SQL is written once for both engines: ?1, ?2 ... parameters
// (PostgreSQL's connection rewrites them as $1, $2 ...), TRUE/FALSE for flags,
// INSERT ... ON CONFLICT for upserts, RETURNING for generated ids. What the
// engines do differently is here and only here: opening, the write lock,
// schema bookkeeping, checkpoints (sqlite_db.cc, pg_db.cc).
//
// Statements are prepared once and reused: prepare() caches them by the
// address of their SQL literal. Failures become Status values: a lock held
// past the timeout, a vanished file or connection, an I/O error are
// Unavailable (503); anything else is Internal (500).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace cpa::store {

// Bytes to store as a BLOB / BYTEA rather than text (sealed values are not UTF-8).
struct Blob {
  std::string_view bytes;
};

// One prepared statement of an engine. Parameters are 1-based, columns 0-based.
class Statement {
 public:
  virtual ~Statement() = default;
  virtual void bind_int64(int index, int64_t v) = 0;
  virtual void bind_text(int index, std::string_view v) = 0;
  virtual void bind_blob(int index, std::string_view v) = 0;
  virtual void bind_null(int index) = 0;
  virtual Status step(bool* row) = 0;
  virtual int64_t int64(int col) const = 0;
  virtual bool boolean(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual std::string bytes(int col) const = 0;  // a BLOB's / BYTEA's bytes, or a text's
  virtual bool is_null(int col) const = 0;
  // Ready for the next use: results dropped, parameters unbound.
  virtual void reset() = 0;
};

// A cached statement, borrowed for one use: reset on destruction.
class Stmt {
 public:
  explicit Stmt(Statement* s) : s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
  ~Stmt() {
    if (s_) s_->reset();
  }

  Stmt& bind(int index, int64_t v) {
    s_->bind_int64(index, v);
    return *this;
  }
  Stmt& bind(int index, int v) { return bind(index, static_cast<int64_t>(v)); }
  Stmt& bind(int index, bool v) { return bind(index, static_cast<int64_t>(v)); }
  Stmt& bind(int index, std::string_view v) {
    s_->bind_text(index, v);
    return *this;
  }
  Stmt& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
  Stmt& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  Stmt& bind(int index, Blob v) {
    s_->bind_blob(index, v.bytes);
    return *this;
  }
  Stmt& bind(int index, std::nullopt_t) {
    s_->bind_null(index);
    return *this;
  }
  template <typename T>
  Stmt& bind(int index, const std::optional<T>& v) {
    return v ? bind(index, *v) : bind(index, std::nullopt);
  }
  // Binds its arguments to ?1, ?2, ... in order.
  template <typename... Args>
  Stmt& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances; *row is true when a row is available.
  Status step(bool* row) { return s_->step(row); }
  // Runs to completion (for statements that return no rows).
  Status run();

  int64_t int64(int col) const { return s_->int64(col); }
  bool boolean(int col) const { return s_->boolean(col); }
  std::string text(int col) const { return s_->text(col); }
  std::string bytes(int col) const { return s_->bytes(col); }
  bool is_null(int col) const { return s_->is_null(col); }
  std::optional<int64_t> opt_int64(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  Statement* s_;
};

// Whether opening a database may create its file: only migrate() does.
enum class Creation { kOpenExisting, kCreate };

class Db {
 public:
  // `location`: a postgresql:// (or postgres://) URL, else the SQLite file's
  // path. Opens an existing database, or creates it (migrate; on PostgreSQL
  // the database must exist: its tables are what migrate creates). A worker keeps a Db that could not connect: check() retries
  // on every request and the service answers 503 until the database is back.
  static Result<std::unique_ptr<Db>> open(const std::string& location, int busy_timeout_ms,
                                          Creation creation);
  virtual ~Db() = default;

  // `sql` must be a string literal (or outlive the Db): it keys the cache.
  Result<Stmt> prepare(const char* sql);
  // Runs one or more statements with no parameters.
  virtual Status exec(const char* sql) = 0;
  // Runs one statement with no parameters from the statement cache: for the
  // transaction statements of every write, which exec() would parse each time.
  Status run(const char* sql);

  // The connection still reaches the database this Db was opened on
  // (SQLite: the path names the same writable file; PostgreSQL: the
  // connection is up); reconnects when not. Unavailable when that fails.
  virtual Status check() = 0;
  virtual bool unchanged() const = 0;

  virtual int64_t changes() const = 0;  // rows changed by the last statement
  virtual bool in_transaction() const = 0;

  // A write transaction: lock_writer() (SQLite's writer gate, a file lock
  // that queues writers in the kernel; nothing on PostgreSQL), then
  // begin_write(), which makes this the only writing transaction until its
  // COMMIT or ROLLBACK, across processes and, on PostgreSQL, across nodes
  // (BEGIN IMMEDIATE; BEGIN and a transaction-scoped advisory lock).
  // Checks and updates inside it are therefore exact: every read in it sees
  // every write committed before it.
  virtual Status lock_writer() = 0;
  virtual void unlock_writer() = 0;
  virtual Status begin_write() = 0;

  // Schema bookkeeping for Store::migrate: the version recorded in the
  // database (0 for an empty one), and recording it (inside begin_write()).
  virtual Result<int64_t> schema_version() = 0;
  virtual Status set_schema_version(int64_t version) = 0;
  // SQLite: copies the WAL into the database and truncates it; false when a
  // reader kept it from finishing. PostgreSQL: nothing to do (true).
  virtual Result<bool> checkpoint() = 0;

  // Mail queued, for the mailers of other nodes: PostgreSQL's NOTIFY,
  // delivered at commit (nothing on SQLite: one node, one mailer, woken by
  // the workers' pipe). listen_fd() LISTENs once per connection and gives
  // the socket to poll (-1: none); consume_notifications() drains it.
  virtual Status notify_mail_queued() { return Status(); }
  virtual int listen_fd() { return -1; }
  virtual void consume_notifications() {}

  // The SQLite connection, for what has no statement (the online backup
  // API); nullptr on PostgreSQL.
  virtual sqlite3* sqlite_handle() const { return nullptr; }

 protected:
  virtual Result<std::unique_ptr<Statement>> compile(const char* sql) = 0;
  virtual bool connected() const = 0;
  // After a reconnection: the statements belonged to the old connection.
  void forget_statements() { cache_.clear(); }

 private:
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;
};

}  // namespace cpa::store
