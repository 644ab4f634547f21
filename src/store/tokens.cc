// Store: the record of every JWT issued.
#include <cstdio>

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
      "UPDATE tokens SET revoked_at = ?2, rotated = TRUE WHERE jti = ?1 AND revoked_at IS NULL";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  CPA_RETURN_IF_ERROR(s.bind_all(jti, now).run());
  return db_->changes() == 1;
}

// What every revocation does, in two steps so that the first counts the
// live tokens it revokes: live tokens are revoked now; rotated ones keep
// their rotation time but are no longer merely rotated.
#define CPA_REVOKE_LIVE \
  "UPDATE tokens SET revoked_at = ?2, rotated = FALSE WHERE revoked_at IS NULL AND "
#define CPA_UNROTATE "UPDATE tokens SET rotated = FALSE WHERE rotated AND "

// Runs `revoke_live` then `unrotate` (statements are cached by their text's
// address: static), each bound by `bind`; how many live tokens the first
// revoked.
template <typename Bind>
Result<int64_t> revoke(Db& db, const char* revoke_live, const char* unrotate, Bind bind) {
  CPA_ASSIGN_OR_RETURN(Stmt live, db.prepare(revoke_live));
  CPA_RETURN_IF_ERROR(bind(live, true).run());
  const int64_t revoked = db.changes();
  CPA_ASSIGN_OR_RETURN(Stmt rotated, db.prepare(unrotate));
  CPA_RETURN_IF_ERROR(bind(rotated, false).run());
  return revoked;
}

// Each names the user, so that all three walk tokens_user (user_id, family).
Result<int64_t> Store::revoke_family(int64_t user_id, const std::string& family, int64_t now) {
  static constexpr const char* kLive = CPA_REVOKE_LIVE "user_id = ?1 AND family = ?3";
  static constexpr const char* kRotated = CPA_UNROTATE "user_id = ?1 AND family = ?2";
  return revoke(*db_, kLive, kRotated, [&](Stmt& s, bool live) -> Stmt& {
    return live ? s.bind_all(user_id, now, family) : s.bind_all(user_id, family);
  });
}

Result<int64_t> Store::revoke_user_tokens(int64_t user_id, int64_t now) {
  static constexpr const char* kLive = CPA_REVOKE_LIVE "user_id = ?1";
  static constexpr const char* kRotated = CPA_UNROTATE "user_id = ?1";
  return revoke(*db_, kLive, kRotated, [&](Stmt& s, bool live) -> Stmt& {
    return live ? s.bind_all(user_id, now) : s.bind_all(user_id);
  });
}

Result<int64_t> Store::revoke_other_families(int64_t user_id, const std::string& keep_family,
                                             int64_t now) {
  static constexpr const char* kLive = CPA_REVOKE_LIVE "user_id = ?1 AND family <> ?3";
  static constexpr const char* kRotated = CPA_UNROTATE "user_id = ?1 AND family <> ?2";
  return revoke(*db_, kLive, kRotated, [&](Stmt& s, bool live) -> Stmt& {
    return live ? s.bind_all(user_id, now, keep_family) : s.bind_all(user_id, keep_family);
  });
}

#undef CPA_REVOKE_LIVE
#undef CPA_UNROTATE

std::string expiry_key_bound(int64_t expired_before) {
  char bound[32];
  snprintf(bound, sizeof bound, "%08llx",
           static_cast<unsigned long long>(expired_before) & 0xffffffffULL);
  return bound;
}

Status Store::prune_tokens(int64_t expired_before) {
  CPA_RETURN_IF_ERROR(prune_sessions(expired_before));
  // A range of the key (jti begins with the expiry), not a scan; the
  // expires_at test keeps a version-1 row whose issue-time prefix is in the
  // range while the token still lives.
  static constexpr const char* kSql = "DELETE FROM tokens WHERE jti < ?1 AND expires_at < ?2";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(expiry_key_bound(expired_before), expired_before).run();
}

}  // namespace cpa::store
