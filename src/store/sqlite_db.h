// SqliteDb: the Db of a SQLite file (the default engine).
//
// WAL, foreign_keys=ON, synchronous=FULL, a WAL size limit and a busy timeout
// are set on open. The database, its -wal, -shm and writer-gate files are
// made mode 0600 whatever the umask.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include "store/db.h"

namespace cpa::store {

class SqliteDb : public Db {
 public:
  static Result<std::unique_ptr<Db>> open(const std::string& path, int busy_timeout_ms,
                                          Creation creation);
  ~SqliteDb() override;

  Status exec(const char* sql) override;
  Status check() override;
  bool unchanged() const override;
  int64_t changes() const override { return db_ ? sqlite3_changes(db_) : 0; }
  bool in_transaction() const override { return db_ && !sqlite3_get_autocommit(db_); }
  Status lock_writer() override;
  void unlock_writer() override;
  Status begin_write() override { return run("BEGIN IMMEDIATE"); }
  Result<int64_t> schema_version() override;
  Status set_schema_version(int64_t version) override;
  Result<bool> checkpoint() override;
  sqlite3* sqlite_handle() const override { return db_; }

  // The Status for a failed SQLite call.
  Status error(int rc, std::string_view what) const;

 protected:
  Result<std::unique_ptr<Statement>> compile(const char* sql) override;
  bool connected() const override { return db_ != nullptr; }

 private:
  SqliteDb(std::string path, int busy_timeout_ms)
      : path_(std::move(path)), busy_ms_(busy_timeout_ms) {}
  Status connect(Creation creation);
  void disconnect();
  void open_writer_gate();

  std::string path_;
  int busy_ms_;
  sqlite3* db_ = nullptr;
  int gate_fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace cpa::store
