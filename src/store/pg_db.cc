#include "store/pg_db.h"

#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace cpa::store {
namespace {

// The channel queued mail is announced on.
constexpr const char* kNotifySql = "SELECT pg_notify('cryptopay_auth_outbox', '')";
constexpr const char* kListenSql = "LISTEN cryptopay_auth_outbox";

// The store's SQL with ?N parameters rewritten as PostgreSQL's $N (outside
// quoted strings), and how many parameters it takes.
std::string to_postgresql(const char* sql, int* parameters) {
  std::string out;
  int highest = 0;
  char quote = 0;
  for (const char* p = sql; *p; ++p) {
    if (quote) {
      if (*p == quote) quote = 0;
      out += *p;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
      out += *p;
    } else if (*p == '?') {
      char* end = nullptr;
      long n = strtol(p + 1, &end, 10);
      if (n > highest) highest = static_cast<int>(n);
      out += '$';
      out.append(p + 1, static_cast<size_t>(end - (p + 1)));
      p = end - 1;
    } else {
      out += *p;
    }
  }
  *parameters = highest;
  return out;
}

void ignore_notice(void*, const char*) {}  // "already exists, skipping" and the like

class PgStatement : public Statement {
 public:
  PgStatement(PgDb* db, std::string name, int parameters, const char* sql)
      : db_(db), name_(std::move(name)), sql_(sql), values_(parameters), formats_(parameters),
        nulls_(parameters, true) {}
  ~PgStatement() override { PQclear(result_); }

  void bind_int64(int index, int64_t v) override { set(index, std::to_string(v), 0); }
  void bind_text(int index, std::string_view v) override { set(index, std::string(v), 0); }
  void bind_blob(int index, std::string_view v) override { set(index, std::string(v), 1); }
  void bind_null(int index) override {
    if (index >= 1 && index <= static_cast<int>(nulls_.size())) nulls_[index - 1] = true;
  }

  Status step(bool* row) override {
    *row = false;
    if (!executed_) {
      CPA_RETURN_IF_ERROR(execute());
      executed_ = true;
    }
    if (result_ && row_ + 1 < PQntuples(result_)) {
      ++row_;
      *row = true;
    }
    return Status();
  }

  int64_t int64(int col) const override {
    return strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
  }
  bool boolean(int col) const override {
    const char* v = PQgetvalue(result_, row_, col);
    return v[0] == 't' || v[0] == '1';
  }
  std::string text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  std::string bytes(int col) const override {
    const char* v = PQgetvalue(result_, row_, col);
    if (PQftype(result_, col) != kByteaOid) return text(col);
    size_t length = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &length);
    if (!raw) return std::string();
    std::string out(reinterpret_cast<const char*>(raw), length);
    PQfreemem(raw);
    return out;
  }
  bool is_null(int col) const override { return PQgetisnull(result_, row_, col) != 0; }

  void reset() override {
    PQclear(result_);
    result_ = nullptr;
    executed_ = false;
    row_ = -1;
    for (size_t i = 0; i < nulls_.size(); ++i) {
      nulls_[i] = true;
      values_[i].clear();
    }
  }

 private:
  static constexpr Oid kByteaOid = 17;

  void set(int index, std::string value, int format) {
    if (index < 1 || index > static_cast<int>(values_.size())) return;
    values_[index - 1] = std::move(value);
    formats_[index - 1] = format;
    nulls_[index - 1] = false;
  }

  Status execute() {
    const int n = static_cast<int>(values_.size());
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    for (int i = 0; i < n; ++i) {
      values[i] = nulls_[i] ? nullptr : values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    PQclear(result_);
    result_ = PQexecPrepared(db_->connection(), name_.c_str(), n, values.data(), lengths.data(),
                             formats_.data(), 0);
    ExecStatusType status = result_ ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      db_->set_changes(strtoll(PQcmdTuples(result_), nullptr, 10));
      return Status();
    }
    Status failed = db_->error(result_, sql_);
    PQclear(result_);
    result_ = nullptr;
    return failed;
  }

  PgDb* db_;
  std::string name_;
  const char* sql_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
};

}  // namespace

Result<std::unique_ptr<Db>> PgDb::open(const std::string& url, int busy_timeout_ms,
                                       Creation creation) {
  std::unique_ptr<PgDb> db(new PgDb(url, busy_timeout_ms));
  Status s = db->connect();
  if (!s.ok() && creation == Creation::kCreate) return s;
  return std::unique_ptr<Db>(std::move(db));
}

PgDb::~PgDb() { disconnect(); }

Status PgDb::connect() {
  // Ours first: what the URL says (connect_timeout, application_name) wins.
  // TCP keepalives: a server that vanished without closing (a host down, a
  // network cut) is noticed in about 30 s instead of the kernel's hours, so
  // a worker answers 503 rather than hanging on it.
  std::string timeout = std::to_string(std::max(2, (busy_ms_ + 999) / 1000));
  const char* keys[] = {"application_name", "connect_timeout", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "dbname", nullptr};
  const char* values[] = {"cryptopay-auth", timeout.c_str(), "10", "5", "4", "30000",
                          url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    disconnect();
    return Status::Unavailable("cannot connect to PostgreSQL: " + why);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  // A writer waits for the write lock at most the busy timeout, as on SQLite.
  std::string settings = "SET lock_timeout = '" + std::to_string(busy_ms_) +
                         "ms'; SET client_min_messages = warning";
  Status s = exec(settings.c_str());
  if (!s.ok()) disconnect();
  return s;
}

void PgDb::disconnect() {
  forget_statements();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  next_statement_ = 0;
  listening_ = false;
}

bool PgDb::unchanged() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

Status PgDb::check() {
  if (alive()) return Status();
  disconnect();
  return connect();
}

bool PgDb::alive() {
  if (!unchanged()) return false;
  // A server that restarted or ended this session (pg_terminate_backend, a
  // fast shutdown) has closed the connection, maybe after a last FATAL
  // message; libpq still says CONNECTION_OK until it reads that. Between
  // requests nothing else can arrive but NOTIFYs (the mailer's), so a
  // readable socket is read now: else the next request would be the one to
  // find out, and answer 503 although the server is back.
  // A server's last message and its close may take two reads; NOTIFYs
  // leave the socket quiet after one. A few rounds tell the two apart.
  for (int round = 0; round < 4; ++round) {
    struct pollfd ready = {PQsocket(conn_), POLLIN, 0};
    if (poll(&ready, 1, 0) != 1) break;
    if (!PQconsumeInput(conn_)) return false;
  }
  return unchanged();
}

bool PgDb::in_transaction() const {
  if (!conn_) return false;
  PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Result<std::unique_ptr<Statement>> PgDb::compile(const char* sql) {
  int parameters = 0;
  std::string translated = to_postgresql(sql, &parameters);
  std::string name = "cpa_" + std::to_string(++next_statement_);
  PGresult* prepared = PQprepare(conn_, name.c_str(), translated.c_str(), 0, nullptr);
  bool ok = prepared && PQresultStatus(prepared) == PGRES_COMMAND_OK;
  Status failed = ok ? Status() : error(prepared, sql);
  PQclear(prepared);
  if (!ok) return failed;
  return std::unique_ptr<Statement>(new PgStatement(this, std::move(name), parameters, sql));
}

Status PgDb::exec(const char* sql) {
  if (!conn_) return Status::Unavailable("database is not open");
  PGresult* result = PQexec(conn_, sql);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  Status s = (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) ? Status()
                                                                         : error(result, sql);
  PQclear(result);
  return s;
}

Status PgDb::begin_write() {
  static const std::string writer_lock_sql =
      "SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")";
  CPA_RETURN_IF_ERROR(run("BEGIN"));
  Status locked = run(writer_lock_sql.c_str());
  if (!locked.ok()) exec("ROLLBACK");
  return locked;
}

Status PgDb::notify_mail_queued() { return run(kNotifySql); }

int PgDb::listen_fd() {
  if (!unchanged()) return -1;
  if (!listening_) listening_ = exec(kListenSql).ok();
  return listening_ ? PQsocket(conn_) : -1;
}

void PgDb::consume_notifications() {
  if (!conn_ || !PQconsumeInput(conn_)) return;
  while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
}

Result<int64_t> PgDb::schema_version() {
  CPA_ASSIGN_OR_RETURN(Stmt exists, prepare("SELECT to_regclass('schema_version') IS NOT NULL"));
  bool row = false;
  CPA_RETURN_IF_ERROR(exists.step(&row));
  if (!row || !exists.boolean(0)) return int64_t{0};
  CPA_ASSIGN_OR_RETURN(Stmt s, prepare("SELECT max(version) FROM schema_version"));
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row && !s.is_null(0) ? s.int64(0) : int64_t{0};
}

Status PgDb::set_schema_version(int64_t version) {
  std::string sql = "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" +
                    std::to_string(version) + ")";
  return exec(sql.c_str());
}

Status PgDb::error(const PGresult* result, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string reason = primary ? primary : (conn_ ? PQerrorMessage(conn_) : "not connected");
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  if (!state || !conn_ || PQstatus(conn_) != CONNECTION_OK)
    return Status::Unavailable("database connection lost: " + reason);
  std::string_view code(state);
  if (code == "55P03") return Status::Unavailable("database is locked");
  // Connection exceptions, insufficient resources, operator intervention
  // (a shutdown, a cancelled statement), serialization failures.
  if (code.substr(0, 2) == "08" || code.substr(0, 2) == "53" || code.substr(0, 2) == "57" ||
      code.substr(0, 2) == "40" || code.substr(0, 2) == "58")
    return Status::Unavailable(reason);
  return Status::Internal(reason + " [" + std::string(what.substr(0, 80)) + "]");
}

}  // namespace cpa::store
