// Db: one SQLite connection with its prepared statements (one per process).
//
// WAL, foreign_keys=ON, synchronous=FULL, a WAL size limit and a busy timeout
// are set on open. The database, its -wal, -shm and writer-gate files are
// made mode 0600 whatever the umask.
// Statements are prepared once and reused: prepare() caches them by the
// address of their SQL literal. SQLite result codes become Status values:
// a lock held past the timeout, a read-only or vanished file, an I/O error
// are Unavailable (503); anything else is Internal (500).
//
// Only the store layer (store/*.cc) uses this header.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

namespace cpa::store {

class Db;

// Bytes to store as a BLOB rather than TEXT (sealed values are not UTF-8).
struct Blob {
  std::string_view bytes;
};

// A cached statement, borrowed for one use: reset and unbound on destruction.
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  ~Stmt();

  Stmt& bind(int index, int64_t v);
  Stmt& bind(int index, int v) { return bind(index, static_cast<int64_t>(v)); }
  Stmt& bind(int index, bool v) { return bind(index, static_cast<int64_t>(v)); }
  Stmt& bind(int index, std::string_view v);
  Stmt& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
  Stmt& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  Stmt& bind(int index, Blob v);
  Stmt& bind(int index, std::nullopt_t);
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
  Status step(bool* row);
  // Runs to completion (for statements that return no rows).
  Status run();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool boolean(int col) const { return sqlite3_column_int64(stmt_, col) != 0; }
  std::string text(int col) const;
  // A BLOB's bytes, or a TEXT's.
  std::string bytes(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<int64_t> opt_int64(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

// Whether opening a database may create its file: only migrate() does.
enum class Creation { kOpenExisting, kCreate };

class Db {
 public:
  // Opens an existing database, or creates it (migrate).
  static Result<std::unique_ptr<Db>> open(const std::string& path, int busy_timeout_ms,
                                          Creation creation);
  ~Db();

  // `sql` must be a string literal (or outlive the Db): it keys the cache.
  Result<Stmt> prepare(const char* sql);
  // Runs one or more statements with no parameters.
  Status exec(const char* sql);
  // Runs one statement with no parameters from the statement cache: for the
  // transaction statements of every write, which exec() would parse each time.
  Status run(const char* sql);

  // Checks that the path still names the file this connection has open, and
  // reopens it if it was replaced; Unavailable if it is gone.
  Status check_file();
  // The path still names this connection's file, and it is writable.
  bool unchanged() const;

  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  bool in_transaction() const { return !sqlite3_get_autocommit(db_); }
  // The connection itself, for what has no statement: the online backup API.
  sqlite3* handle() const { return db_; }

  // The writer gate: taken around every write transaction, so that writers
  // queue instead of polling SQLite's lock. Unavailable after the busy timeout.
  Status lock_writer();
  void unlock_writer();

  // The Status for a failed SQLite call.
  Status error(int rc, std::string_view what) const;

 private:
  Db(std::string path, int busy_timeout_ms) : path_(std::move(path)), busy_ms_(busy_timeout_ms) {}
  Status connect(Creation creation);
  void disconnect();
  void open_writer_gate();

  std::string path_;
  int busy_ms_;
  sqlite3* db_ = nullptr;
  int gate_fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace cpa::store
