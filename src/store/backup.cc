// The online backup of the live database (`cryptopay-auth backup`) and the
// integrity check of a copy.
#include <sqlite3.h>

#include <memory>

#include "store/db.h"
#include "store/store.h"

namespace cpa::store {

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseDb>;

Status failed(sqlite3* db, const std::string& what) {
  return Status::Internal(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

Result<Connection> open_file(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) return failed(raw, "cannot open " + path);
  return db;
}

}  // namespace

Status Store::backup_into(const std::string& path) {
  CPA_RETURN_IF_ERROR(db_->check());  // the live file, not one replaced under us
  sqlite3* source = db_->sqlite_handle();
  if (source == nullptr) {
    return Status::Internal(
        "backup copies a SQLite database; back up PostgreSQL with its own tools (pg_dump)");
  }
  CPA_ASSIGN_OR_RETURN(Connection dest, open_file(path, SQLITE_OPEN_READWRITE));
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", source, "main");
  if (backup == nullptr) return failed(dest.get(), "backup");
  // -1: every page in one step, under one read transaction of the source.
  int rc = sqlite3_backup_step(backup, -1);
  int finished = sqlite3_backup_finish(backup);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Status::Unavailable("database is locked");
  if (rc != SQLITE_DONE || finished != SQLITE_OK) return failed(dest.get(), "backup");
  // The copied header says WAL; a single file travels better, and VACUUM
  // rewrites it without the free pages deleted rows left behind.
  if (sqlite3_exec(dest.get(), "PRAGMA journal_mode=DELETE; VACUUM;", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return failed(dest.get(), "compacting the copy");
  }
  return Status();
}

Result<std::string> Store::integrity_check(const std::string& path) {
  CPA_ASSIGN_OR_RETURN(Connection db, open_file(path, SQLITE_OPEN_READONLY));
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA integrity_check", -1, &raw, nullptr) != SQLITE_OK)
    return failed(db.get(), "integrity check");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) return failed(db.get(), "integrity check");
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return std::string(text ? reinterpret_cast<const char*>(text) : "");
}

}  // namespace cpa::store
