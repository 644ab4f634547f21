// Checking a password the caller presents: token/obtain/, and every 🔒 route
// that asks for the current password. Failures for one email are limited
// (10 in 15 minutes, API.md §4) on all of them together, so a stolen access
// token cannot be used to guess the account's password either.
//
// The limit is exact under concurrency: an attempt is recorded as a failure
// before the (slow) check, in the same transaction that reads the count, and
// taken back when the password was right.
#pragma once

#include <string>

#include "api/context.h"
#include "http/fields.h"

namespace cpa::api {

inline constexpr const char* kInvalidPassword = "Invalid password.";

// Reserves one attempt for `email_key`: 429 when the limit is reached.
Result<int64_t> reserve_password_attempt(Call& call, const std::string& email_key);
// Takes a reserved attempt back (the password was right). Call inside write().
Status release_password_attempt(Call& call, int64_t attempt);

// The caller's current password, from a 🔒 route: OK, 429, or 400
// {field: ["Invalid password."]}.
Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              const char* field);
// The same for a handler that reports every failing field at once: a wrong
// password becomes `field`'s error in `form`; only 429 and storage failures
// are returned.
Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              http::Form& form, const char* field);

// The password is replaced (`hash`), every token of the account revoked and
// a notice queued to it. Call inside write().
Status replace_password(Call& call, const store::User& user, const std::string& hash);

}  // namespace cpa::api
