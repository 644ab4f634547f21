#include "api/user_view.h"

#include "core/clock.h"

namespace cpa::api {

void write_user(http::JsonWriter& w, const store::User& u) {
  char buf[24];
  w.begin_object();
  w.field("id", u.id);
  w.field("email", u.email);
  w.field("first_name", u.first_name);
  w.field("last_name", u.last_name);
  w.field("terms_accepted", u.terms_accepted);
  w.field("email_verified", u.email_verified);
  w.field("has_pin", u.pin_hash.has_value());
  w.field("is_active", u.is_active);
  w.field("is_staff", u.is_staff);
  w.field("date_joined", iso8601_utc(u.date_joined, buf));
  w.key("last_login");
  if (u.last_login) {
    w.value(iso8601_utc(*u.last_login, buf));
  } else {
    w.null();
  }
  w.end_object();
}

std::string user_json(const store::User& user) {
  http::JsonWriter w;
  write_user(w, user);
  return w.str();
}

}  // namespace cpa::api
