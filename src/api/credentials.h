// Checking a password the caller presents: token/obtain/, and every 🔒 route
// that asks for the current password. Failures for one email are limited
// (API.md §4) on all of them together, so a stolen access token cannot be
// used to guess the account's password either: 10 from one client address,
// 50 from all addresses, in 15 minutes. A stranger guessing from one address
// therefore cannot lock the owner out.
//
// The limits are exact under concurrency: an attempt is recorded as a
// failure before the (slow) check, in the same transaction that reads the
// counts, and taken back when the password was right. A request over a
// limit gets its 429 before any hash is computed.
#pragma once

#include <cstdint>
#include <string>

#include "api/context.h"
#include "http/fields.h"

namespace cpa::api {

inline constexpr const char* kInvalidPassword = "Invalid password.";

// An attempt recorded in both windows, until it is taken back.
struct PasswordAttempt {
  int64_t overall = 0;       // throttle event ids
  int64_t from_address = 0;
};

// Reserves one attempt at `email_key`'s password from the caller's address:
// 429 when either limit is reached.
Result<PasswordAttempt> reserve_password_attempt(Call& call, const std::string& email_key);
// Takes a reserved attempt back (the password was right). Call inside write().
Status release_password_attempt(Call& call, const PasswordAttempt& attempt);

// The caller's current password, from a 🔒 route: OK, 429, or 400
// {field: ["Invalid password."]}. The handler acts on it in a later write,
// which must reauthenticate() (the password may have changed meanwhile).
Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              const char* field);
// The same for a handler that reports every failing field at once: a wrong
// password becomes `field`'s error in `form`; only 429 and storage failures
// are returned.
Status check_current_password(Call& call, const store::User& user, const std::string& password,
                              http::Form& form, const char* field);

// One hash spent by the caller of a 🔒 route that hashes (Cost::kHash): at
// most limits::kHashMaxPerAccount per account in limits::kHashWindow, right
// or wrong, counted before the hash. 429 beyond.
Status spend_account_hash(Call& call);

// The password is replaced (`hash`), every token of the account revoked and
// a notice queued to it. Call inside write().
Status replace_password(Call& call, const store::User& user, const std::string& hash);

}  // namespace cpa::api
