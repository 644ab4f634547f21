// Store: the users table.
#include "store/db.h"
#include "store/rows.h"
#include "store/store.h"

namespace cpa::store {

User read_user(const Stmt& s, int c) {
  User u;
  u.id = s.int64(c + 0);
  u.email = s.text(c + 1);
  u.email_key = s.text(c + 2);
  u.password = s.opt_text(c + 3);
  u.first_name = s.text(c + 4);
  u.last_name = s.text(c + 5);
  u.terms_accepted = s.boolean(c + 6);
  u.email_verified = s.boolean(c + 7);
  u.verified_at = s.opt_int64(c + 8);
  u.is_active = s.boolean(c + 9);
  u.is_staff = s.boolean(c + 10);
  u.is_superuser = s.boolean(c + 11);
  u.date_joined = s.int64(c + 12);
  u.last_login = s.opt_int64(c + 13);
  u.pin_hash = s.opt_text(c + 14);
  u.pin_failures = static_cast<int>(s.int64(c + 15));
  u.pin_locked_until = s.int64(c + 16);
  u.pin_reset_until = s.int64(c + 17);
  return u;
}

namespace {

Result<std::optional<User>> one_user(Result<Stmt> prepared) {
  if (!prepared.ok()) return prepared.status();
  Stmt& s = prepared.value();
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return std::optional<User>();
  return std::optional<User>(read_user(s, 0));
}

}  // namespace

Result<std::optional<User>> Store::user_by_id(int64_t id) {
  static constexpr const char* kSql = "SELECT " CPA_USER_COLUMNS " FROM users u WHERE u.id = ?1";
  auto s = db_->prepare(kSql);
  if (s.ok()) s->bind_all(id);
  return one_user(std::move(s));
}

Result<std::optional<User>> Store::user_by_email_key(const std::string& key) {
  static constexpr const char* kSql =
      "SELECT " CPA_USER_COLUMNS " FROM users u WHERE u.email_key = ?1";
  auto s = db_->prepare(kSql);
  if (s.ok()) s->bind_all(key);
  return one_user(std::move(s));
}

Result<int64_t> Store::insert_user(const NewUser& u) {
  static constexpr const char* kSql =
      "INSERT INTO users (email, email_key, password, terms_accepted, email_verified, "
      "verified_at, is_active, is_staff, is_superuser, date_joined) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  std::optional<int64_t> verified_at;
  if (u.email_verified) verified_at = u.date_joined;
  s.bind_all(u.email, u.email_key, u.password, u.terms_accepted, u.email_verified, verified_at,
             u.is_active, u.is_staff, u.is_superuser, u.date_joined);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  if (!row) return Status::Internal("INSERT INTO users returned no id");
  return s.int64(0);
}

Status Store::delete_user(const User& user) {
  // codes and tokens go with it (ON DELETE CASCADE).
  static constexpr const char* kSql = "DELETE FROM users WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  CPA_RETURN_IF_ERROR(s.bind_all(user.id).run());
  return clear_send_history(user.email_key);
}

Status Store::set_terms_accepted(int64_t id) {
  static constexpr const char* kSql = "UPDATE users SET terms_accepted = TRUE WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id).run();
}

Status Store::mark_email_verified(int64_t id, int64_t now, const std::string& client_ip) {
  static constexpr const char* kSql =
      "UPDATE users SET email_verified = TRUE, verified_at = ?2, verified_ip = ?3 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, now, client_ip).run();
}

Result<std::string> Store::verified_ip(int64_t id) {
  static constexpr const char* kSql = "SELECT coalesce(verified_ip, '') FROM users WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(id);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row ? s.text(0) : std::string();
}

Status Store::set_password(int64_t id, const std::string& hash, Activation activation) {
  static constexpr const char* kSql =
      "UPDATE users SET password = ?2, is_active = CASE WHEN ?3 = 1 THEN TRUE ELSE is_active END "
      "WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, hash, activation == Activation::kActivate).run();
}

Status Store::set_last_login(int64_t id, int64_t now) {
  static constexpr const char* kSql = "UPDATE users SET last_login = ?2 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, now).run();
}

Status Store::set_names(int64_t id, const std::string& first_name, const std::string& last_name) {
  static constexpr const char* kSql =
      "UPDATE users SET first_name = ?2, last_name = ?3 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, first_name, last_name).run();
}

Status Store::set_email(int64_t id, const std::string& email, const std::string& key) {
  static constexpr const char* kSql =
      "UPDATE users SET email = ?2, email_key = ?3, email_verified = TRUE WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, email, key).run();
}

Status Store::set_active(int64_t id, Active active) {
  static constexpr const char* kSql = "UPDATE users SET is_active = ?2 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, active == Active::kYes).run();
}

Status Store::set_pin(int64_t id, const std::string& hash) {
  static constexpr const char* kSql =
      "UPDATE users SET pin_hash = ?2, pin_failures = 0, pin_locked_until = 0, "
      "pin_reset_until = 0 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, hash).run();
}

Status Store::set_pin_strikes(int64_t id, int failures, int64_t locked_until) {
  static constexpr const char* kSql =
      "UPDATE users SET pin_failures = ?2, pin_locked_until = ?3 WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, failures, locked_until).run();
}

Status Store::set_pin_reset_window(int64_t id, int64_t until) {
  static constexpr const char* kSql =
      "UPDATE users SET pin_reset_until = ?2, pin_failures = 0, pin_locked_until = 0 "
      "WHERE id = ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  return s.bind_all(id, until).run();
}

Result<std::vector<User>> Store::list_users(UserFilter filter, int64_t offset, int64_t limit) {
  static constexpr const char* kSql =
      "SELECT " CPA_USER_COLUMNS " FROM users u WHERE (?3 = 0 OR u.is_staff) "
      "ORDER BY u.id LIMIT ?2 OFFSET ?1";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  if (limit < 0) limit = INT64_MAX;  // no limit, spelled so that both engines accept it
  s.bind_all(offset, limit, filter == UserFilter::kStaff);
  std::vector<User> users;
  for (;;) {
    bool row = false;
    CPA_RETURN_IF_ERROR(s.step(&row));
    if (!row) break;
    users.push_back(read_user(s, 0));
  }
  return users;
}

Result<int64_t> Store::count_users(UserFilter filter) {
  static constexpr const char* kSql =
      "SELECT count(*) FROM users u WHERE (?1 = 0 OR u.is_staff)";
  CPA_ASSIGN_OR_RETURN(Stmt s, db_->prepare(kSql));
  s.bind_all(filter == UserFilter::kStaff);
  bool row = false;
  CPA_RETURN_IF_ERROR(s.step(&row));
  return row ? s.int64(0) : int64_t{0};
}

}  // namespace cpa::store
