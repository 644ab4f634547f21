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

// Logins (§4): 10 failures for one email from one client address in 15
// minutes, 50 from all addresses together.
inline constexpr int64_t kLoginFailureWindow = 15 * 60;
inline constexpr int64_t kLoginMaxFailuresPerAddress = 10;
inline constexpr int64_t kLoginMaxFailures = 50;

// Hashes an account may spend on 🔒 routes (current password, PIN), right
// or wrong, before any is computed: one account cannot flood the hashers.
inline constexpr int64_t kHashWindow = 10 * 60;
inline constexpr int64_t kHashMaxPerAccount = 30;

// Codes one account may have sent per hour, whatever their destination
// (reset-email-request/ names a new address each time).
inline constexpr int64_t kAccountSendMaxPerWindow = 10;

// PIN (§6).
inline constexpr int kPinMaxStrikes = 5;
inline constexpr int64_t kPinLockSeconds = 15 * 60;
inline constexpr int64_t kPinResetWindow = 10 * 60;

}  // namespace cpa::api::limits
