#include "core/purpose.h"

namespace cpa {

const std::string& purpose_name(Purpose purpose) {
  static const std::string kNames[] = {"email_verification", "password_recovery", "pin_reset",
                                       "email_change"};
  return kNames[static_cast<int>(purpose)];
}

std::optional<Purpose> parse_purpose(std::string_view name) {
  for (Purpose p : kAllPurposes)
    if (purpose_name(p) == name) return p;
  return std::nullopt;
}

}  // namespace cpa
