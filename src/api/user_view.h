// The user representation of API.md §7, in its key order:
// id, email, first_name, last_name, terms_accepted, email_verified, has_pin,
// is_active, is_staff, date_joined, last_login (ISO 8601 UTC or null).
#pragma once

#include "http/json.h"
#include "store/store.h"

namespace cpa::api {

// The users table's uniqueness error (Django's wording for email).
inline constexpr const char* kEmailTaken = "user with this email already exists.";

void write_user(http::JsonWriter& w, const store::User& user);
std::string user_json(const store::User& user);

}  // namespace cpa::api
