// Store: the record of every JWT issued.
#include "store/db.h"
#include "store/rows.h"
#include "store/store.h"

namespace cpa::store {

Token read_token(const Stmt& s, int c) {
  Token t;
  t.jti = s.text(c + 0);
  t.user_id = s.int64(c + 1);
  t.token_type = s.text(c + 2);
  t.family = s.text(c + 3);
  t.issued_at = s.int64(c + 4);
  t.expires_at = s.int64(c + 5);
  t.revoked_at = s.opt_int64(c + 6);
  t.rotated = s.boolean(c + 7);
  return t;
}

Status Store::insert_token(const Token& t) {
  static constexpr const char* kSql =
      "INSERT INTO tokens (jti, user_id, token_type, family, issued_at, expires_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(t.jti, t.user_id, t.token_type, t.family, t.issued_at, t.expires_at).run();
}

Result<std::optional<std::pair<Token, User>>> Store::token_with_user(const std::string& jti) {
  static constexpr const char* kSql =
      "SELECT " CPA_TOKEN_COLUMNS ", " CPA_USER_COLUMNS
      " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.jti = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(jti);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return std::optional<std::pair<Token, User>>();
  return std::optional<std::pair<Token, User>>(
      std::pair<Token, User>(read_token(s, 0), read_user(s, kTokenColumnCount)));
}

Result<bool> Store::rotate_token(const std::string& jti, int64_t now) {
  static constexpr const char* kSql =
      "UPDATE tokens SET revoked_at = ?2, rotated = 1 WHERE jti = ?1 AND revoked_at IS NULL";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  CPA_RETURN_IF_ERROR(s.bind_all(jti, now).run());
  return db_->changes() == 1;
}

// What every revocation sets: live tokens revoked now, rotated ones keep
// their rotation time but are no longer merely rotated.
#define CPA_REVOKE                                                       \
  "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2), rotated = 0 " \
  "WHERE (revoked_at IS NULL OR rotated = 1) AND "

Status Store::revoke_family(const std::string& family, int64_t now) {
  static constexpr const char* kSql = CPA_REVOKE "family = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(family, now).run();
}

Status Store::revoke_user_tokens(int64_t user_id, int64_t now) {
  static constexpr const char* kSql = CPA_REVOKE "user_id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(user_id, now).run();
}

Status Store::revoke_other_families(int64_t user_id, const std::string& keep_family,
                                    int64_t now) {
  static constexpr const char* kSql = CPA_REVOKE "user_id = ?1 AND family <> ?3";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(user_id, now, keep_family).run();
}

#undef CPA_REVOKE

Status Store::prune_tokens(int64_t expired_before) {
  CPA_RETURN_IF_ERROR(prune_sessions(expired_before));
  static constexpr const char* kSql = "DELETE FROM tokens WHERE expires_at < ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(expired_before).run();
}

}  // namespace cpa::store
