#include "api/password_policy.h"

namespace cpa::api {

std::optional<std::string> read_new_password(http::Form& form, const std::string& field,
                                             std::string_view email) {
  std::optional<std::string> password = form.text(field, kPasswordField);
  if (!password) return std::nullopt;
  for (std::string& problem : auth::password_problems(*password, email))
    form.fail(field, std::move(problem));
  return password;
}

void check_repeat(http::Form& form, const std::optional<std::string>& password,
                  const std::string& repeat_field, const char* mismatch_message) {
  // No length rule here: password rules are reported under the password only.
  std::optional<std::string> repeat = form.text(repeat_field, http::Text{.trim = false});
  if (password && repeat && *password != *repeat) form.fail_non_field(mismatch_message);
}

}  // namespace cpa::api
