// Store: throttle events (code sends, failed logins).
#include "store/db.h"
#include "store/store.h"

namespace cpa::store {

Result<ThrottleWindow> Store::throttle_window(const std::string& scope, const std::string& subject,
                                              int64_t since) {
  static constexpr const char* kSql =
      "SELECT count(*), coalesce(min(at), 0), coalesce(max(at), 0) FROM throttle_events "
      "WHERE scope = ?1 AND subject = ?2 AND at > ?3";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(scope, subject, since);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  ThrottleWindow w;
  if (row) {
    w.count = s.int64(0);
    w.oldest = s.int64(1);
    w.newest = s.int64(2);
  }
  return w;
}

Result<int64_t> Store::add_throttle_event(const std::string& scope, const std::string& subject,
                                          int64_t at) {
  static constexpr const char* kSql =
      "INSERT INTO throttle_events (scope, subject, at) VALUES (?1, ?2, ?3) RETURNING id";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(scope, subject, at);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return Status::Internal("INSERT INTO throttle_events returned no id");
  return s.int64(0);
}

Status Store::remove_throttle_event(int64_t id) {
  static constexpr const char* kSql = "DELETE FROM throttle_events WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id).run();
}

Status Store::clear_send_history(const std::string& subject) {
  static constexpr const char* kSql =
      "DELETE FROM throttle_events WHERE subject = ?1 AND scope LIKE 'send:%'";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(subject).run();
}

Status Store::prune_throttle_events(int64_t before) {
  static constexpr const char* kSql = "DELETE FROM throttle_events WHERE at < ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(before).run();
}

}  // namespace cpa::store
