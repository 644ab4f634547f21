#include "store/sqlite_db.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace cpa::store {

namespace {

class SqliteStatement : public Statement {
 public:
  SqliteStatement(const SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void bind_int64(int index, int64_t v) override { sqlite3_bind_int64(stmt_, index, v); }
  void bind_text(int index, std::string_view v) override {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int index, std::string_view v) override {
    // A zero-length blob needs a non-null pointer to be a blob rather than NULL.
    static const char kEmpty = 0;
    sqlite3_bind_blob(stmt_, index, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void bind_null(int index) override { sqlite3_bind_null(stmt_, index); }

  Status step(bool* row) override {
    int rc = sqlite3_step(stmt_);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return Status();
    return db_->error(rc, sqlite3_sql(stmt_));
  }

  int64_t int64(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool boolean(int col) const override { return sqlite3_column_int64(stmt_, col) != 0; }
  std::string text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (!p) return std::string();
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::string bytes(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    if (!p) return std::string();
    return std::string(static_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  bool is_null(int col) const override {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  void reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  const SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace

Result<std::unique_ptr<Db>> SqliteDb::open(const std::string& path, int busy_timeout_ms,
                                           Creation creation) {
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, busy_timeout_ms));
  Status s = db->connect(creation);
  // A worker keeps a closed Db when the file is missing: check_file() retries
  // on every request and the service answers 503 until the file is back.
  if (!s.ok() && creation == Creation::kCreate) return s;
  return std::unique_ptr<Db>(std::move(db));
}

SqliteDb::~SqliteDb() { disconnect(); }

namespace {

// The database and the files beside it hold token records, code hashes and
// queued mail: the service's user only, whatever the umask. SQLite creates
// -wal and -shm with the database's mode; files left by an older version
// (0644) are narrowed. Not ours to change (another owner): left as they are.
constexpr mode_t kPrivateMode = 0600;

void make_private(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) != kPrivateMode)
    chmod(path.c_str(), kPrivateMode);
}

}  // namespace

Status SqliteDb::connect(Creation creation) {
  const bool create = creation == Creation::kCreate;
  if (create) {
    // Created here rather than by SQLite, which would apply 0644 & ~umask.
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateMode);
    if (fd >= 0) close(fd);
  }
  make_private(path_);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::Unavailable(std::string("cannot open database: ") +
                                   (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
    disconnect();
    return s;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_ms_);
  struct stat st;
  if (stat(path_.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  open_writer_gate();
  // cache_size: 1 MiB per connection (SQLite's default is 2 MiB): the hot
  // pages of a few small tables fit, and a worker stays well under 10 MB.
  // journal_size_limit: when a checkpoint lets the WAL start over, it is cut
  // back to 4 MiB, so old frames do not linger in a file grown by a burst.
  Status s = exec(
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON;"
      "PRAGMA cache_size=-1024;"
      "PRAGMA journal_size_limit=4194304;");
  if (!s.ok()) {
    disconnect();
    return s;
  }
  make_private(path_ + "-wal");
  make_private(path_ + "-shm");
  return s;
}

namespace {

void on_alarm(int) {}  // only to interrupt a blocked flock()

}  // namespace

void SqliteDb::open_writer_gate() {
  // Beside the database: every process that writes it takes this lock, so
  // writers queue in the kernel and are woken the moment it is free, instead
  // of polling SQLite's lock with sleeps of up to 100 ms.
  std::string path = path_ + "-writer.lock";
  gate_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateMode);
  if (gate_fd_ >= 0) make_private(path);
  static bool alarm_installed = false;  // once per process, before any wait
  if (gate_fd_ >= 0 && !alarm_installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;  // no SA_RESTART: the alarm ends the wait
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, nullptr);
    alarm_installed = true;
  }
}

Status SqliteDb::lock_writer() {
  if (gate_fd_ < 0) return Status();  // no gate (unwritable dir): SQLite's lock alone
  if (flock(gate_fd_, LOCK_EX | LOCK_NB) == 0) return Status();
  struct itimerval timer{};
  timer.it_value.tv_sec = busy_ms_ / 1000;
  timer.it_value.tv_usec = (busy_ms_ % 1000) * 1000;
  setitimer(ITIMER_REAL, &timer, nullptr);
  int rc = flock(gate_fd_, LOCK_EX);
  int saved = errno;
  struct itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  if (rc == 0) return Status();
  return Status::Unavailable(saved == EINTR ? "database is locked" : strerror(saved));
}

void SqliteDb::unlock_writer() {
  if (gate_fd_ >= 0) flock(gate_fd_, LOCK_UN);
}

void SqliteDb::disconnect() {
  if (gate_fd_ >= 0) close(gate_fd_);
  gate_fd_ = -1;
  forget_statements();  // finalized before the connection closes
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

bool SqliteDb::unchanged() const {
  struct stat st;
  return db_ && stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_ &&
         access(path_.c_str(), W_OK) == 0;
}

Status SqliteDb::check() {
  // An open descriptor outlives a rename, an unlink or a chmod: without this
  // check the connection would keep writing to a file that is no longer the
  // database, or past a read-only mark.
  if (unchanged()) return Status();
  // Replaced, removed, read-only, or a previous reopen failed: try again.
  // Never create here, so that a vanished database is reported rather than
  // recreated empty.
  disconnect();
  struct stat st;
  if (stat(path_.c_str(), &st) == 0 && access(path_.c_str(), W_OK) != 0)
    return Status::Unavailable("database is read-only");
  return connect(Creation::kOpenExisting);
}

Result<std::unique_ptr<Statement>> SqliteDb::compile(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, sql);
  return std::unique_ptr<Statement>(new SqliteStatement(this, stmt));
}

Status SqliteDb::exec(const char* sql) {
  if (!db_) return Status::Unavailable("database is not open");
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, sql);
  return Status();
}

Status SqliteDb::error(int rc, std::string_view what) const {
  std::string reason = std::string(sqlite3_errstr(rc));
  if (db_) reason = sqlite3_errmsg(db_);
  std::string where(what.substr(0, 80));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("database is locked");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
      return Status::Unavailable(reason);
    default:
      return Status::Internal(reason + " [" + where + "]");
  }
}

Result<int64_t> SqliteDb::schema_version() {
  CPA_ASSIGN_OR_RETURN(Stmt s, prepare("PRAGMA user_version"));
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row ? s.int64(0) : int64_t{0};
}

Status SqliteDb::set_schema_version(int64_t version) {
  std::string pragma = "PRAGMA user_version = " + std::to_string(version);
  return exec(pragma.c_str());
}

Result<bool> SqliteDb::checkpoint() {
  CPA_RETURN_IF_ERROR(lock_writer());
  Result<bool> done = [&]() -> Result<bool> {
    CPA_ASSIGN_OR_RETURN(Stmt s, prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
    bool row = false;
    CPA_RETURN_IF_ERROR(s.step(&row));
    return row && s.int64(0) == 0;  // (busy, log frames, checkpointed frames)
  }();
  unlock_writer();
  return done;
}

}  // namespace cpa::store
