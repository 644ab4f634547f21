// Store: the mail outbox.
#include "store/db.h"
#include "store/store.h"

namespace cpa::store {
namespace {

#define CPA_MAIL_COLUMNS                                                              \
  "id, recipient, subject, body, status, attempts, next_attempt_at, last_error, "     \
  "created_at, sent_at, kind, code_user_id, code_purpose, code_hash, sealed"

// The kind column: code mails sort first ('code' < 'notice'), see due_mail.
constexpr const char* kKindCode = "code";
constexpr const char* kKindNotice = "notice";

Mail read_mail(const Stmt& s) {
  Mail m;
  m.id = s.int64(0);
  m.recipient = s.text(1);
  m.subject = s.bytes(2);
  m.body = s.bytes(3);
  m.status = s.text(4);
  m.attempts = static_cast<int>(s.int64(5));
  m.next_attempt_at = s.int64(6);
  m.last_error = s.opt_text(7);
  m.created_at = s.int64(8);
  m.sent_at = s.opt_int64(9);
  if (s.text(10) == kKindCode && !s.is_null(11))
    m.code = CodeRef{s.int64(11), s.text(12), s.text(13)};
  m.sealed = s.boolean(14);
  return m;
}

Result<std::vector<Mail>> read_all(Stmt& s) {
  std::vector<Mail> out;
  for (;;) {
    bool row = false;
    CPA_RETURN_IF_ERROR(s.step(&row));
    if (!row) break;
    out.push_back(read_mail(s));
  }
  return out;
}

}  // namespace

Status Store::enqueue_mail(const OutboxMail& mail, int64_t now) {
  if (!db_->in_transaction())
    return Status::Internal("enqueue_mail outside a write transaction");
  static constexpr const char* kSql =
      "INSERT INTO outbox (recipient, subject, body, status, next_attempt_at, created_at, "
      "kind, code_user_id, code_purpose, code_hash, sealed) "
      "VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5, ?6, ?7, ?8, ?9)";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  // Bytes either way: sealed values are not text (PostgreSQL's columns are BYTEA).
  s.bind(1, mail.recipient).bind(4, now).bind(9, mail.sealed);
  s.bind(2, Blob{mail.subject}).bind(3, Blob{mail.body});
  if (mail.code) {
    s.bind(5, kKindCode).bind(6, mail.code->user_id).bind(7, mail.code->purpose);
    s.bind(8, mail.code->code_hash);
  } else {
    s.bind(5, kKindNotice).bind(6, std::nullopt).bind(7, std::nullopt).bind(8, std::nullopt);
  }
  CPA_RETURN_IF_ERROR(s.run());
  mail_queued_ = true;
  return Status();
}

Result<std::vector<Mail>> Store::due_mail(int64_t now, int limit) {
  // The order is the outbox_due index's: codes first (someone is waiting
  // for them), then by due time; the id (the rowid, last in the index)
  // keeps rows due at the same second in queue order.
  static constexpr const char* kSql =
      "SELECT " CPA_MAIL_COLUMNS " FROM outbox WHERE status = 'pending' AND "
      "next_attempt_at <= ?1 ORDER BY kind, next_attempt_at, id LIMIT ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(now, limit);
  return read_all(s);
}

Result<std::vector<Mail>> Store::claim_due_mail(int64_t now, int limit, int64_t lease_until) {
  if (!db_->in_transaction())
    return Status::Internal("claim_due_mail outside a write transaction");
  CPA_ASSIGN_OR_RETURN(std::vector<Mail> due, due_mail(now, limit));
  static constexpr const char* kSql = "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1";
  for (Mail& m : due) {
    CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
    CPA_RETURN_IF_ERROR(s.bind_all(m.id, lease_until).run());
  }
  return due;
}

int Store::mail_wake_fd() { return db_->listen_fd(); }
void Store::consume_mail_wakes() { db_->consume_notifications(); }

Result<std::optional<Mail>> Store::mail_by_id(int64_t id) {
  static constexpr const char* kSql = "SELECT " CPA_MAIL_COLUMNS " FROM outbox WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(id);
  CPA_ASSIGN_OR_RETURN(std::vector<Mail> rows, read_all(s));
  if (rows.empty()) return std::optional<Mail>();
  return std::optional<Mail>(std::move(rows[0]));
}

Result<std::optional<int64_t>> Store::next_mail_due() {
  static constexpr const char* kSql =
      "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return std::optional<int64_t>();
  return s.opt_int64(0);
}

Status Store::mark_mail_sent(int64_t id, int64_t now) {
  // The body (it may carry a code) is not kept once delivered.
  static constexpr const char* kSql =
      "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, body = '', "
      "last_error = NULL WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, now).run();
}

Status Store::mark_mail_retry(int64_t id, int attempts, int64_t next_attempt_at,
                              const std::string& error) {
  static constexpr const char* kSql =
      "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, attempts, next_attempt_at, error).run();
}

Status Store::mark_mail_failed(int64_t id, int attempts, const std::string& error) {
  static constexpr const char* kSql =
      "UPDATE outbox SET status = 'failed', attempts = ?2, last_error = ?3 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, attempts, error).run();
}

Status Store::mark_mail_expired(int64_t id) {
  static constexpr const char* kSql =
      "UPDATE outbox SET status = 'expired', body = '', last_error = NULL "
      "WHERE id = ?1 AND status = 'pending'";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id).run();
}

Result<MailCounts> Store::mail_counts() {
  static constexpr const char* kSql =
      "SELECT coalesce(sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), "
      "coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), "
      "coalesce(sum(CASE WHEN status = 'expired' THEN 1 ELSE 0 END), 0) "
      "FROM outbox WHERE status IN ('pending', 'failed', 'expired')";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  MailCounts c;
  if (row) {
    c.pending = s.int64(0);
    c.failed = s.int64(1);
    c.expired = s.int64(2);
  }
  return c;
}

Result<std::vector<Mail>> Store::list_mail(MailFilter filter, int64_t limit) {
  static constexpr const char* kSql =
      "SELECT " CPA_MAIL_COLUMNS " FROM outbox WHERE (?1 = '' OR status = ?1) "
      "ORDER BY id DESC LIMIT ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  const char* status = filter == MailFilter::kPending ? "pending"
                       : filter == MailFilter::kFailed ? "failed"
                                                       : "";
  s.bind_all(status, limit);
  return read_all(s);
}

Result<int64_t> Store::retry_mail(int64_t id, int64_t now) {
  static constexpr const char* kSql =
      "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, attempts = 0 "
      "WHERE id = ?1 AND status IN ('pending', 'failed')";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  CPA_RETURN_IF_ERROR(s.bind_all(id, now).run());
  return static_cast<int64_t>(db_->changes());
}

Result<int64_t> Store::retry_all_failed_mail(int64_t now) {
  static constexpr const char* kSql =
      "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, attempts = 0 "
      "WHERE status = 'failed'";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  CPA_RETURN_IF_ERROR(s.bind_all(now).run());
  return static_cast<int64_t>(db_->changes());
}

Status Store::prune_done_mail(int64_t before) {
  static constexpr const char* kSql =
      "DELETE FROM outbox WHERE (status = 'sent' AND sent_at < ?1) "
      "OR (status = 'expired' AND created_at < ?1)";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(before).run();
}

}  // namespace cpa::store
