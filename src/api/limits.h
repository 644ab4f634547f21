// The numbers of API.md §2-§6 in one place.
#pragma once

#include <cstdint>

namespace cpa::api::limits {

// One-time codes (§2).
inline constexpr int kCodeMaxWrongGuesses = 5;
inline constexpr int64_t kSendInterval = 60;        // 1 code per (email, purpose) per minute
inline constexpr int64_t kSendWindow = 3600;        // ... and at most
inline constexpr int64_t kSendMaxPerWindow = 10;    // 10 per hour

// Registration (§3): the first password may be set this long after verifying.
inline constexpr int64_t kFirstPasswordWindow = 30 * 60;

// Logins (§4): 10 failures for one email in 15 minutes.
inline constexpr int64_t kLoginFailureWindow = 15 * 60;
inline constexpr int64_t kLoginMaxFailures = 10;

// PIN (§6).
inline constexpr int kPinMaxStrikes = 5;
inline constexpr int64_t kPinLockSeconds = 15 * 60;
inline constexpr int64_t kPinResetWindow = 10 * 60;

}  // namespace cpa::api::limits
