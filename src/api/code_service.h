// One-time codes as the endpoints use them (API.md §2): issuing a code with
// its email under the send limits, and checking a guess under the attempt
// limit. Both run inside the caller's Store::write(), so each check and its
// update are one transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/context.h"

namespace cpa::api {

namespace purpose {
inline constexpr const char* kEmailVerification = "email_verification";
inline constexpr const char* kPasswordRecovery = "password_recovery";
inline constexpr const char* kPinReset = "pin_reset";
inline constexpr const char* kEmailChange = "email_change";
}  // namespace purpose

inline constexpr const char* kInvalidCode = "Invalid or expired code.";
inline constexpr const char* kTooManyAttempts = "Too many attempts. Request a new code.";

enum class SendLimit {
  kEnforce,  // over the limit: 429
  kSilent,   // over the limit: OK, but nothing is sent (no account enumeration)
};

// Issues a new code for (user, purpose), replacing any live one, and queues
// it to `recipient`. The send limit is counted per (limit_email, purpose).
// `new_email` is what an email_change code confirms. Must run inside write().
Status send_code(Call& call, const store::User& user, const char* code_purpose,
                 const std::string& recipient, SendLimit limit,
                 std::optional<std::string> new_email = std::nullopt);

// For an email with no account: goes through the same limit bookkeeping as
// send_code() (so both paths cost the same) and sends nothing.
Status probe_send_limit(Call& call, const std::string& limit_email_key, const char* code_purpose);

// Checks `code` for (user, purpose): 400 {"code": [...]} unless it is the
// live code. A wrong guess is counted; the fifth burns the code. `consume`
// uses the code up. On success returns the code row. Must run inside write().
Result<store::Code> check_code(Call& call, int64_t user_id, const char* code_purpose,
                               const std::string& code, bool consume);

}  // namespace cpa::api
