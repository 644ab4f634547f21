// Store: sessions (API.md §9), one row per family of tokens. Liveness is read
// from the session's newest refresh token, so revocations never touch this
// table: token/obtain/ and token/refresh/ write it, pruning and the account's
// deletion remove its rows.
#include "store/db.h"
#include "store/rows.h"
#include "store/store.h"

#define CPA_SESSION_COLUMNS \
  "s.id, s.user_id, s.refresh_jti, s.created_at, s.last_used_at, s.ip, s.user_agent"

// The sessions whose newest refresh token is live at ?2.
#define CPA_LIVE_SESSIONS                                   \
  " FROM sessions s JOIN tokens t ON t.jti = s.refresh_jti" \
  " WHERE t.revoked_at IS NULL AND t.expires_at > ?2"

namespace cpa::store {
namespace {

Session read_session(const Stmt& s) {
  Session out;
  out.id = s.text(0);
  out.user_id = s.int64(1);
  out.refresh_jti = s.text(2);
  out.created_at = s.int64(3);
  out.last_used_at = s.int64(4);
  out.ip = s.text(5);
  out.user_agent = s.text(6);
  return out;
}

}  // namespace

Status Store::touch_session(const Session& s) {
  static constexpr const char* kSql =
      "INSERT INTO sessions (id, user_id, refresh_jti, created_at, last_used_at, ip, user_agent) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET "
      "refresh_jti = excluded.refresh_jti, last_used_at = excluded.last_used_at, "
      "ip = excluded.ip, user_agent = excluded.user_agent";
  CPA_ASSIGN_OR_RETURN(Stmt st, db_->prepare(kSql));
  return st.bind_all(s.id, s.user_id, s.refresh_jti, s.created_at, s.last_used_at, s.ip,
                     s.user_agent)
      .run();
}

Result<std::vector<Session>> Store::live_sessions(int64_t user_id, int64_t now, int64_t offset,
                                                  int64_t limit) {
  // Walks sessions_user backwards; ties in the second go to the later id
  // (ids begin with their expiry: creation time + the refresh lifetime).
  static constexpr const char* kSql =
      "SELECT " CPA_SESSION_COLUMNS CPA_LIVE_SESSIONS
      " AND s.user_id = ?1 ORDER BY s.last_used_at DESC, s.id DESC LIMIT ?4 OFFSET ?3";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(user_id, now, offset, limit);
  std::vector<Session> out;
  for (;;) {
    bool row = false;
    CPA_RETURN_IF_ERROR(s.step(&row));
    if (!row) break;
    out.push_back(read_session(s));
  }
  return out;
}

Result<int64_t> Store::count_live_sessions(int64_t user_id, int64_t now) {
  static constexpr const char* kSql = "SELECT count(*)" CPA_LIVE_SESSIONS " AND s.user_id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(user_id, now);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row ? s.int64(0) : int64_t{0};
}

Result<std::optional<Session>> Store::live_session(int64_t user_id, const std::string& id,
                                                   int64_t now) {
  static constexpr const char* kSql =
      "SELECT " CPA_SESSION_COLUMNS CPA_LIVE_SESSIONS " AND s.user_id = ?1 AND s.id = ?3";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(user_id, now, id);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return std::optional<Session>();
  return std::optional<Session>(read_session(s));
}

Status Store::prune_sessions(int64_t expired_before) {
  // The sessions whose newest refresh token expired before `expired_before`
  // (dead for good: no later token can come), found among the refresh
  // tokens that pruning deletes (a range of their key) rather than by
  // reading every session.
  static constexpr const char* kSql =
      "DELETE FROM sessions WHERE id IN (SELECT family FROM tokens"
      " WHERE jti < ?2 AND expires_at < ?1 AND token_type = 'refresh')"
      " AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.jti = sessions.refresh_jti"
      " AND t.expires_at >= ?1)";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(expired_before, expiry_key_bound(expired_before)).run();
}

}  // namespace cpa::store
