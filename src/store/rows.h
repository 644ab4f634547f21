// Row readers shared by the store's files (private to store/).
#pragma once

#include "store/db.h"
#include "store/store.h"

namespace cpa::store {

// The users columns, for "SELECT " CPA_USER_COLUMNS " FROM users u ...".
#define CPA_USER_COLUMNS                                                               \
  "u.id, u.email, u.email_key, u.password, u.first_name, u.last_name, "                \
  "u.terms_accepted, u.email_verified, u.verified_at, u.is_active, u.is_staff, "      \
  "u.is_superuser, u.date_joined, u.last_login, u.pin_hash, u.pin_failures, "         \
  "u.pin_locked_until, u.pin_reset_until"

User read_user(const Stmt& s, int first_col);

#define CPA_TOKEN_COLUMNS \
  "t.jti, t.user_id, t.token_type, t.family, t.issued_at, t.expires_at, t.revoked_at, t.rotated"
inline constexpr int kTokenColumnCount = 8;

Token read_token(const Stmt& s, int first_col);

// The smallest jti of a token expiring at or after `expired_before`: every
// jti below it begins with an earlier expiry (8 hex digits).
std::string expiry_key_bound(int64_t expired_before);

}  // namespace cpa::store
