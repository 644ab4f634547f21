// The purposes of one-time codes (API.md §2), in one place: the API issues
// and checks codes by purpose, the mail templates word them, and the store
// keeps their names.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cpa {

enum class Purpose { kEmailVerification, kPasswordRecovery, kPinReset, kEmailChange };

inline constexpr Purpose kAllPurposes[] = {Purpose::kEmailVerification, Purpose::kPasswordRecovery,
                                           Purpose::kPinReset, Purpose::kEmailChange};

// "email_verification", ...: the name on the wire and in the database.
const std::string& purpose_name(Purpose purpose);
std::optional<Purpose> parse_purpose(std::string_view name);

}  // namespace cpa
