// One-time codes as the endpoints use them (API.md §2): issuing a code with
// its email under the send limits, and checking a guess under the attempt
// limit. Both run inside the caller's Store::write(), so each check and its
// update are one transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/context.h"
#include "core/purpose.h"

namespace cpa::api {

inline constexpr const char* kInvalidCode = "Invalid or expired code.";
inline constexpr const char* kTooManyAttempts = "Too many attempts. Request a new code.";

enum class SendLimit {
  kEnforce,  // over the limit: 429
  kSilent,   // over the limit: OK, but nothing is sent (no account enumeration)
};

// Issues a new code for (user, purpose), replacing any live one, and queues
// it to `recipient`. The send limit is counted per (limit_email, purpose).
// `new_email` is what an email_change code confirms. Must run inside write().
Status send_code(Call& call, const store::User& user, Purpose purpose,
                 const std::string& recipient, SendLimit limit,
                 std::optional<std::string> new_email = std::nullopt);

// Seconds until send_code() may send this code (0: now), by the same limits:
// per (address, purpose), and for an email change per account too. For a
// handler that must refuse before spending a hash.
Result<int64_t> code_send_wait(Call& call, const store::User& user, Purpose purpose,
                               const std::optional<std::string>& new_email);

// For an email with no account (or none that may get this code): goes
// through the same limit bookkeeping as send_code() and queues a sealed mail
// as it does (so both paths cost the same), records a decoy code that
// guesses will be counted against, and sends nothing: the mail names a code
// no account holds, which the mailer finds dead.
Status probe_send_limit(Call& call, const std::string& limit_email_key, Purpose purpose);

enum class Consume { kNo, kYes };

// Checks `code` for (user, purpose): 400 {"code": [...]} unless it is the
// live code. A wrong guess is counted; the fifth burns the code. Consume::kYes
// uses the code up. On success returns the code row. Must run inside write().
Result<store::Code> check_code(Call& call, int64_t user_id, Purpose purpose,
                               const std::string& code, Consume consume);

// The same for a public route that names an email: `user` is the account
// that may hold the code (nullopt when there is none). When the email's
// decoy is newer than the account's code, the guess goes against the decoy,
// counted and answered the same way, never matching.
Result<store::Code> check_code_for_email(Call& call, const std::optional<store::User>& user,
                                         const std::string& email_key, Purpose purpose,
                                         const std::string& code, Consume consume);

// `code` is the code that was used up for (user, purpose) (public-set-password/:
// the code that verified the email). Wrong guesses are counted on that row;
// after the fifth no guess matches. Must run inside write().
Status check_spent_code(Call& call, int64_t user_id, Purpose purpose,
                        const std::string& code);

}  // namespace cpa::api
