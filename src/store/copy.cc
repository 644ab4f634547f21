// Store::copy_into: a stopped SQLite deployment's rows, copied into an empty
// PostgreSQL database (`cryptopay-auth migrate-data`). Every table is read
// from SQLite in one read transaction and written to PostgreSQL in one write
// transaction, so the copy is all or nothing and the source is one snapshot.
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/config.h"
#include "store/db.h"
#include "store/store.h"

namespace cpa::store {
namespace {

// How a column's value travels. Flags are SQLite's integers 0/1, sent as
// "0"/"1", which PostgreSQL's BOOLEAN takes; the outbox's subject and body
// are bytes (sealed, not UTF-8) into BYTEA.
enum class Value : uint8_t { kInteger, kText, kBytes };

// How a table's identity column, if any, goes on in PostgreSQL: after the
// highest id in the source; with AUTOINCREMENT, after the highest SQLite
// ever gave (sqlite_sequence remembers ids of deleted rows too, and a
// deleted user's id must not come back: its tokens named it).
enum class Identity : uint8_t { kNone, kMaxId, kAutoincrement };

// A table as written below: its columns (listed once for the read and the
// insert), the order it is read in, and how each column's value travels.
struct TableSpec {
  const char* name;
  const char* columns;
  const char* order_by;
  std::vector<Value> values;
  Identity identity = Identity::kNone;
};

// A table's statements, made once from its TableSpec.
struct Table {
  std::string name;
  std::string read_sql;    // SQLite: every row, its columns in insert_sql's order
  std::string insert_sql;  // PostgreSQL
  std::string count_sql;   // both
  std::vector<Value> columns;
  // With an identity column: the highest id SQLite gave (read from the
  // source), and the statement that sets PostgreSQL's sequence to it, so
  // that the next row gets the id after it. Empty otherwise.
  std::string highest_id_sql;
  std::string advance_sql;
};

Table make_table(const TableSpec& spec) {
  const std::string name = spec.name;
  Table t;
  t.name = name;
  t.read_sql = "SELECT " + std::string(spec.columns) + " FROM " + name + " ORDER BY " +
               spec.order_by;
  t.insert_sql = "INSERT INTO " + name + " (" + spec.columns + ") VALUES (";
  for (size_t i = 1; i <= spec.values.size(); ++i)
    t.insert_sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
  t.insert_sql += ")";
  t.count_sql = "SELECT count(*) FROM " + name;
  t.columns = spec.values;
  if (spec.identity == Identity::kNone) return t;
  t.highest_id_sql = "SELECT coalesce(max(id), 0) FROM " + name;
  if (spec.identity == Identity::kAutoincrement) {
    t.highest_id_sql = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '" +
                       name + "'), 0), coalesce((SELECT max(id) FROM " + name + "), 0))";
  }
  t.advance_sql = "SELECT setval(pg_get_serial_sequence('" + name + "', 'id'), ?1)";
  return t;
}

// Every table of the schema, in foreign-key order: users before the rows
// that name them. A new table or column is a new entry or column here too
// (check_schema stops a copy that would leave one behind). The statements
// live as long as the process: the Db's statement cache keys on them.
const std::vector<Table>& tables() {
  constexpr Value i = Value::kInteger, t = Value::kText, b = Value::kBytes;
  static const std::vector<TableSpec> specs = {
      {.name = "users",
       .columns = "id, email, email_key, password, first_name, last_name, terms_accepted, "
                  "email_verified, verified_at, verified_ip, is_active, is_staff, is_superuser, "
                  "date_joined, last_login, pin_hash, pin_failures, pin_locked_until, "
                  "pin_reset_until",
       .order_by = "id",
       .values = {i, t, t, t, t, t, i, i, i, t, i, i, i, i, i, t, i, i, i},
       .identity = Identity::kAutoincrement},
      {.name = "codes",
       .columns = "user_id, purpose, code_hash, new_email, created_at, expires_at, attempts, "
                  "used_at",
       .order_by = "user_id, purpose",
       .values = {i, t, t, t, i, i, i, i}},
      {.name = "code_decoys",
       .columns = "email_key, purpose, code_hash, created_at, expires_at, attempts",
       .order_by = "email_key, purpose",
       .values = {t, t, t, i, i, i}},
      {.name = "throttle_events",
       .columns = "id, scope, subject, at",
       .order_by = "id",
       .values = {i, t, t, i},
       .identity = Identity::kMaxId},
      {.name = "tokens",
       .columns = "jti, user_id, token_type, family, issued_at, expires_at, revoked_at, rotated",
       .order_by = "issued_at, jti",
       .values = {t, i, t, t, i, i, i, i}},
      {.name = "sessions",
       .columns = "id, user_id, refresh_jti, created_at, last_used_at, ip, user_agent",
       .order_by = "created_at, id",
       .values = {t, i, t, i, i, t, t}},
      {.name = "outbox",
       .columns = "id, recipient, subject, body, status, attempts, next_attempt_at, last_error, "
                  "created_at, sent_at, kind, code_user_id, code_purpose, code_hash, sealed",
       .order_by = "id",
       .values = {i, t, b, b, t, i, i, t, i, i, t, i, t, t, i},
       .identity = Identity::kMaxId},
  };
  static const std::vector<Table> all = [] {
    std::vector<Table> made;
    for (const TableSpec& spec : specs) made.push_back(make_table(spec));
    return made;
  }();
  return all;
}

// The first column of the one row of `sql`, an integer.
Result<int64_t> scalar(Db& db, const char* sql) {
  CPA_ASSIGN_OR_RETURN(Stmt s, db.prepare(sql));
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return Status::Internal(std::string("no row from ") + sql);
  return s.int64(0);
}

// Every row of `table`, read from `from` and inserted into `to`; how many.
Result<int64_t> copy_rows(Db& from, Db& to, const Table& table) {
  CPA_ASSIGN_OR_RETURN(Stmt read, from.prepare(table.read_sql.c_str()));
  int64_t copied = 0;
  for (;;) {
    bool row = false;
    CPA_RETURN_IF_ERROR(read.step(&row));
    if (!row) return copied;
    // Borrowed once per row: giving it back resets it for the next.
    CPA_ASSIGN_OR_RETURN(Stmt insert, to.prepare(table.insert_sql.c_str()));
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const int column = static_cast<int>(c);
      const int parameter = column + 1;
      if (read.is_null(column)) {
        insert.bind(parameter, std::nullopt);
        continue;
      }
      switch (table.columns[c]) {
        case Value::kInteger:
          insert.bind(parameter, read.int64(column));
          break;
        case Value::kText:
          insert.bind(parameter, read.text(column));
          break;
        case Value::kBytes: {
          const std::string bytes = read.bytes(column);  // the binding keeps a copy
          insert.bind(parameter, Blob{bytes});
          break;
        }
      }
    }
    CPA_RETURN_IF_ERROR(insert.run());
    ++copied;
  }
}

// What already is in the PostgreSQL schema the copy would land in, when it
// is not ours: "" when it holds no table or is a cryptopay-auth schema
// (then its rows are counted under the lock).
Result<std::string> foreign_tables(Db& target) {
  CPA_ASSIGN_OR_RETURN(int64_t version, target.schema_version());
  if (version != 0) return std::string();
  CPA_ASSIGN_OR_RETURN(int64_t tables,
                       scalar(target, "SELECT count(*) FROM pg_catalog.pg_tables "
                                      "WHERE schemaname = current_schema()"));
  if (tables == 0) return std::string();
  return "the target database is not empty: it has " + std::to_string(tables) +
         " table(s) and is not a cryptopay-auth database";
}

// `table` has the columns listed above on both sides.
Status check_columns(Db& from, Db& to, const Table& table) {
  static constexpr const char* kSqliteColumns = "SELECT count(*) FROM pragma_table_info(?1)";
  static constexpr const char* kPgColumns =
      "SELECT count(*) FROM information_schema.columns "
      "WHERE table_schema = current_schema() AND table_name = ?1";
  const int64_t copied = static_cast<int64_t>(table.columns.size());
  for (auto [db, sql, engine] : {std::tuple{&from, kSqliteColumns, "SQLite"},
                                 std::tuple{&to, kPgColumns, "PostgreSQL"}}) {
    CPA_ASSIGN_OR_RETURN(Stmt s, db->prepare(sql));
    bool row = false;
    CPA_RETURN_IF_ERROR(s.bind_all(table.name).step(&row));
    const int64_t present = row ? s.int64(0) : 0;
    if (present != copied) {
      return Status::Internal("migrate-data copies " + std::to_string(copied) + " columns of " +
                              table.name + ", " + engine + " has " + std::to_string(present) +
                              ": store/copy.cc is behind the schema");
    }
  }
  return Status();
}

// The tables and columns on each side are the ones listed above. The lists
// are written by hand: a table or column added to the schema and not to
// them would be lost quietly.
Status check_schema(Db& from, Db& to) {
  CPA_ASSIGN_OR_RETURN(int64_t source_tables,
                       scalar(from, "SELECT count(*) FROM sqlite_master "
                                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"));
  if (source_tables != static_cast<int64_t>(tables().size())) {
    return Status::Internal("migrate-data copies " + std::to_string(tables().size()) +
                            " tables, SQLite has " + std::to_string(source_tables) +
                            ": store/copy.cc is behind the schema");
  }
  for (const Table& table : tables()) CPA_RETURN_IF_ERROR(check_columns(from, to, table));
  return Status();
}

// The copy itself, inside both transactions. A refusal sets report->refused.
Status copy_tables(Db& from, Db& to, CopyReport* report) {
  CPA_RETURN_IF_ERROR(check_schema(from, to));
  for (const Table& table : tables()) {
    CPA_ASSIGN_OR_RETURN(int64_t rows, scalar(to, table.count_sql.c_str()));
    if (rows != 0) {
      report->refused = "the target database is not empty: its " + table.name +
                        " table has " + std::to_string(rows) + " row(s)";
      return Status();
    }
  }
  for (const Table& table : tables()) {
    CPA_ASSIGN_OR_RETURN(int64_t copied, copy_rows(from, to, table));
    report->tables.push_back(TableCount{table.name, copied});
  }
  for (const Table& table : tables()) {
    if (table.highest_id_sql.empty()) continue;
    CPA_ASSIGN_OR_RETURN(int64_t highest, scalar(from, table.highest_id_sql.c_str()));
    // An empty sequence already starts at 1 (and setval refuses 0).
    if (highest < 1) continue;
    CPA_ASSIGN_OR_RETURN(Stmt advance, to.prepare(table.advance_sql.c_str()));
    CPA_RETURN_IF_ERROR(advance.bind_all(highest).run());
  }
  // Counted again on both sides, inside both transactions: what the target
  // will hold at the commit is what the source held.
  for (size_t k = 0; k < tables().size(); ++k) {
    const Table& table = tables()[k];
    const TableCount& copied = report->tables[k];
    CPA_ASSIGN_OR_RETURN(int64_t in_source, scalar(from, table.count_sql.c_str()));
    CPA_ASSIGN_OR_RETURN(int64_t in_target, scalar(to, table.count_sql.c_str()));
    if (in_source != copied.rows || in_target != copied.rows) {
      return Status::Internal("the copy of " + copied.table + " did not verify: " +
                              std::to_string(in_source) + " row(s) in SQLite, " +
                              std::to_string(copied.rows) + " copied, " +
                              std::to_string(in_target) + " in PostgreSQL");
    }
  }
  return Status();
}

}  // namespace

Result<CopyReport> Store::copy_into(const std::string& url, int busy_timeout_ms) {
  CopyReport report;
  if (db_->sqlite_handle() == nullptr) {
    report.refused = "the database to copy from is PostgreSQL already";
    return report;
  }
  if (!is_postgresql_url(url)) {
    report.refused = "the database to copy into must be a postgresql:// URL";
    return report;
  }
  CPA_RETURN_IF_ERROR(db_->check());
  CPA_ASSIGN_OR_RETURN(int64_t source_version, db_->schema_version());
  if (source_version != schema_version()) {
    report.refused = "the SQLite database is at schema version " +
                     std::to_string(source_version) + ", this binary's is " +
                     std::to_string(schema_version()) + ": migrate it first";
    return report;
  }

  // kCreate: an unreachable server is the answer, not a later retry.
  CPA_ASSIGN_OR_RETURN(std::unique_ptr<Db> target,
                       Db::open(url, busy_timeout_ms, Creation::kCreate));
  CPA_ASSIGN_OR_RETURN(report.refused, foreign_tables(*target));
  if (!report.refused.empty()) return report;
  CPA_RETURN_IF_ERROR(migrate(url, busy_timeout_ms));

  // The writer lock of every node: a service already started on the target
  // waits, and sees the rows all at once or not at all.
  CPA_RETURN_IF_ERROR(target->begin_write());
  // One snapshot of the source (nothing should write it: the service is
  // stopped; if something did, the counts would still agree).
  Status st = db_->exec("BEGIN");
  if (st.ok()) {
    st = copy_tables(*db_, *target, &report);
    db_->exec("ROLLBACK");  // it only read
  }
  if (st.ok() && report.refused.empty()) {
    st = target->run("COMMIT");
    // Statistics for the planner now, not at autovacuum's next visit: the
    // service's statements would otherwise be planned on empty tables (a
    // sequential scan of tokens instead of its key). A failure here loses
    // nothing: autovacuum does the same later.
    if (st.ok()) target->exec("ANALYZE");
    if (st.ok()) return report;
  }
  target->exec("ROLLBACK");
  if (!st.ok()) return st;
  report.tables.clear();
  return report;
}

}  // namespace cpa::store
