// New passwords: the field rules (required, never trimmed, at most 128
// characters) and Django's validators, all reported under one field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/password_rules.h"
#include "http/fields.h"

namespace cpa::api {

inline constexpr http::Text kPasswordField{
    .required = true, .allow_blank = false, .trim = false, .max_length = auth::kMaxPasswordLength};

inline constexpr const char* kPasswordMismatch = "The two password fields didn't match.";

// Reads `field` as a new password and records every rule it breaks under
// `field`. Returns the password whenever it passed the field checks, even if
// a rule failed (the form is then not ok), so that the caller can still
// compare it with its confirmation.
std::optional<std::string> read_new_password(http::Form& form, const std::string& field,
                                             std::string_view email);

// Reads the confirmation field (never trimmed) and records a mismatch as a
// non-field error, in the same response as any field errors.
void check_repeat(http::Form& form, const std::optional<std::string>& password,
                  const std::string& repeat_field, const char* mismatch_message);

}  // namespace cpa::api
