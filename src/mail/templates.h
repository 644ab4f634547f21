// The texts of the emails the service sends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/purpose.h"

namespace cpa::mail {

struct Text {
  std::string subject;
  std::string body;
};

// A one-time code; `purpose` is one of API.md §2's purposes. `ttl_seconds`
// says how long it lives.
Text code_mail(Purpose purpose, std::string_view code, int64_t ttl_seconds);
Text password_changed_notice();
Text email_changed_notice(std::string_view new_email);

}  // namespace cpa::mail
