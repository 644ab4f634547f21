// Store: one-time codes.
#include "store/db.h"
#include "store/store.h"

namespace cpa::store {

Status Store::put_code(const Code& c) {
  static constexpr const char* kSql =
      "INSERT INTO codes (user_id, purpose, code_hash, new_email, created_at, expires_at, "
      "attempts, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, NULL) "
      "ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, "
      "new_email = excluded.new_email, created_at = excluded.created_at, "
      "expires_at = excluded.expires_at, attempts = 0, used_at = NULL";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(c.user_id, c.purpose, c.code_hash, c.new_email, c.created_at, c.expires_at)
      .run();
}

namespace {

// One code row, from a statement that selects the columns in this order:
// user_id, purpose, code_hash, new_email, created_at, expires_at, attempts,
// used_at. nullopt when there is no row.
Result<std::optional<Code>> one_code(Stmt& s) {
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return std::optional<Code>();
  Code c;
  c.user_id = s.int64(0);
  c.purpose = s.text(1);
  c.code_hash = s.text(2);
  c.new_email = s.opt_text(3);
  c.created_at = s.int64(4);
  c.expires_at = s.int64(5);
  c.attempts = static_cast<int>(s.int64(6));
  c.used_at = s.opt_int64(7);
  return std::optional<Code>(std::move(c));
}

}  // namespace

Result<std::optional<Code>> Store::code_for(int64_t user_id, const std::string& purpose) {
  static constexpr const char* kSql =
      "SELECT user_id, purpose, code_hash, new_email, created_at, expires_at, attempts, used_at "
      "FROM codes WHERE user_id = ?1 AND purpose = ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(user_id, purpose);
  return one_code(s);
}

Status Store::set_code_attempts(int64_t user_id, const std::string& purpose, int attempts) {
  static constexpr const char* kSql =
      "UPDATE codes SET attempts = ?3 WHERE user_id = ?1 AND purpose = ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(user_id, purpose, attempts).run();
}

Status Store::mark_code_used(int64_t user_id, const std::string& purpose, int64_t now) {
  static constexpr const char* kSql =
      "UPDATE codes SET used_at = ?3 WHERE user_id = ?1 AND purpose = ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(user_id, purpose, now).run();
}

Status Store::delete_user_codes(int64_t user_id) {
  static constexpr const char* kSql = "DELETE FROM codes WHERE user_id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(user_id).run();
}

Status Store::put_code_decoy(const std::string& email_key, const Code& d) {
  static constexpr const char* kSql =
      "INSERT INTO code_decoys (email_key, purpose, code_hash, created_at, expires_at, attempts) "
      "VALUES (?1, ?2, ?3, ?4, ?5, 0) "
      "ON CONFLICT (email_key, purpose) DO UPDATE SET code_hash = excluded.code_hash, "
      "created_at = excluded.created_at, expires_at = excluded.expires_at, attempts = 0";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(email_key, d.purpose, d.code_hash, d.created_at, d.expires_at).run();
}

Result<std::optional<Code>> Store::code_decoy_for(const std::string& email_key,
                                                  const std::string& purpose) {
  // A decoy reads as a code of no user (0), never used, with no new email.
  static constexpr const char* kSql =
      "SELECT 0, purpose, code_hash, NULL, created_at, expires_at, attempts, NULL "
      "FROM code_decoys WHERE email_key = ?1 AND purpose = ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(email_key, purpose);
  return one_code(s);
}

Status Store::set_code_decoy_attempts(const std::string& email_key, const std::string& purpose,
                                      int attempts) {
  static constexpr const char* kSql =
      "UPDATE code_decoys SET attempts = ?3 WHERE email_key = ?1 AND purpose = ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(email_key, purpose, attempts).run();
}

Status Store::prune_code_decoys(int64_t expired_before) {
  static constexpr const char* kSql = "DELETE FROM code_decoys WHERE expires_at < ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(expired_before).run();
}

Result<bool> Store::code_is_live(const CodeRef& code, int64_t now, int max_wrong_guesses) {
  static constexpr const char* kSql =
      "SELECT 1 FROM codes WHERE user_id = ?1 AND purpose = ?2 AND code_hash = ?3 "
      "AND used_at IS NULL AND expires_at > ?4 AND attempts < ?5";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(code.user_id, code.purpose, code.code_hash, now, max_wrong_guesses);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row;
}

}  // namespace cpa::store
