#include "store/db.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cpa::store {

Stmt::~Stmt() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind(int index, Blob v) {
  // A zero-length blob needs a non-null pointer to be a blob rather than NULL.
  static const char kEmpty = 0;
  sqlite3_bind_blob(stmt_, index, v.bytes.empty() ? &kEmpty : v.bytes.data(),
                    static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind(int index, std::nullopt_t) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Status Stmt::step(bool* row) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    *row = true;
    return Status();
  }
  *row = false;
  if (rc == SQLITE_DONE) return Status();
  return db_->error(rc, sqlite3_sql(stmt_));
}

Status Stmt::run() {
  bool row = true;
  while (row) CPA_RETURN_IF_ERROR(step(&row));
  return Status();
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return std::string();
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string Stmt::bytes(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (!p) return std::string();
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<int64_t> Stmt::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, int busy_timeout_ms,
                                     Creation creation) {
  std::unique_ptr<Db> db(new Db(path, busy_timeout_ms));
  Status s = db->connect(creation);
  // A worker keeps a closed Db when the file is missing: check_file() retries
  // on every request and the service answers 503 until the file is back.
  if (!s.ok() && creation == Creation::kCreate) return s;
  return db;
}

Db::~Db() { disconnect(); }

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

Status Db::connect(Creation creation) {
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

void Db::open_writer_gate() {
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

Status Db::lock_writer() {
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

void Db::unlock_writer() {
  if (gate_fd_ >= 0) flock(gate_fd_, LOCK_UN);
}

void Db::disconnect() {
  if (gate_fd_ >= 0) close(gate_fd_);
  gate_fd_ = -1;
  for (auto& entry : cache_) sqlite3_finalize(entry.second);
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

bool Db::unchanged() const {
  struct stat st;
  return db_ && stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_ &&
         access(path_.c_str(), W_OK) == 0;
}

Status Db::check_file() {
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

Result<Stmt> Db::prepare(const char* sql) {
  if (!db_) return Status::Unavailable("database is not open");
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(this, it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, sql);
  cache_.emplace(sql, stmt);
  return Stmt(this, stmt);
}

Status Db::run(const char* sql) {
  CPA_ASSIGN_OR_RETURN(Stmt s, prepare(sql));
  return s.run();
}

Status Db::exec(const char* sql) {
  if (!db_) return Status::Unavailable("database is not open");
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, sql);
  return Status();
}

Status Db::error(int rc, std::string_view what) const {
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

}  // namespace cpa::store
