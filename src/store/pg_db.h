// PgDb: the Db of a PostgreSQL database (AUTH_DATABASE_URL), through libpq.
//
// One connection per process, as with SQLite. Statements are prepared on the
// server once per connection, with the store's ?N parameters rewritten as
// $N; parameters travel as text (BYTEA as binary), results come back as text.
// Every write transaction takes one transaction-scoped advisory lock first,
// so writes are serialized across every process of every node exactly as
// SQLite's write lock serializes them on one machine: each check-and-update
// sees every write committed before it, under READ COMMITTED, and nothing
// ever needs retrying. Reads run concurrently (MVCC).
// A lost connection (the server restarted, a network cut) answers
// Unavailable; the next check() reconnects, and check() also notices a
// connection the server closed while it was idle.
#pragma once

#include <libpq-fe.h>

#include "store/db.h"

namespace cpa::store {

// The key of the advisory lock every write transaction takes ("CPAW"); an
// outside session that takes it holds every writer off.
inline constexpr int64_t kWriterLockKey = 1129333079;

class PgDb : public Db {
 public:
  static Result<std::unique_ptr<Db>> open(const std::string& url, int busy_timeout_ms,
                                          Creation creation);
  ~PgDb() override;

  Status exec(const char* sql) override;
  Status check() override;
  bool unchanged() const override;
  int64_t changes() const override { return changes_; }
  bool in_transaction() const override;
  Status lock_writer() override { return Status(); }
  void unlock_writer() override {}
  Status begin_write() override;
  Result<int64_t> schema_version() override;
  Status set_schema_version(int64_t version) override;
  Result<bool> checkpoint() override { return true; }
  Status notify_mail_queued() override;
  int listen_fd() override;
  void consume_notifications() override;

  // For PgStatement: the Status of a failed result (or of a lost connection
  // when `result` is null), and the rows a command changed.
  Status error(const PGresult* result, std::string_view what);
  void set_changes(int64_t n) { changes_ = n; }
  PGconn* connection() const { return conn_; }

 protected:
  Result<std::unique_ptr<Statement>> compile(const char* sql) override;
  bool connected() const override { return conn_ != nullptr; }

 private:
  PgDb(std::string url, int busy_timeout_ms) : url_(std::move(url)), busy_ms_(busy_timeout_ms) {}
  Status connect();
  void disconnect();
  // The connection is up, as far as what the server has sent says.
  bool alive();

  std::string url_;
  int busy_ms_;
  PGconn* conn_ = nullptr;
  int64_t changes_ = 0;
  int next_statement_ = 0;
  bool listening_ = false;  // LISTEN issued on this connection
};

}  // namespace cpa::store
