#include "store/db.h"

#include "core/config.h"
#include "store/pg_db.h"
#include "store/sqlite_db.h"

namespace cpa::store {

Status Stmt::run() {
  bool row = true;
  while (row) CPA_RETURN_IF_ERROR(step(&row));
  return Status();
}

std::optional<int64_t> Stmt::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

Result<std::unique_ptr<Db>> Db::open(const std::string& location, int busy_timeout_ms,
                                     Creation creation) {
  if (is_postgresql_url(location)) return PgDb::open(location, busy_timeout_ms, creation);
  return SqliteDb::open(location, busy_timeout_ms, creation);
}

Result<Stmt> Db::prepare(const char* sql) {
  if (!connected()) return Status::Unavailable("database is not open");
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second.get());
  CPA_ASSIGN_OR_RETURN(std::unique_ptr<Statement> compiled, compile(sql));
  Statement* s = compiled.get();
  cache_.emplace(sql, std::move(compiled));
  return Stmt(s);
}

Status Db::run(const char* sql) {
  CPA_ASSIGN_OR_RETURN(Stmt s, prepare(sql));
  return s.run();
}

}  // namespace cpa::store
