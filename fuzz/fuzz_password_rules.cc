// fuzz_password_rules: Django's four password validators
// (auth/password_rules.h), including the UTF-8 decoding and lower-casing
// they do on arbitrary bytes.
//
// Input layout: "<password>\0<email>"; without a NUL the email is empty.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view password = nul == std::string_view::npos ? input : input.substr(0, nul);
  const std::string_view email = nul == std::string_view::npos ? "" : input.substr(nul + 1);

  const std::vector<std::string> problems = cpa::auth::password_problems(password, email);
  if (problems.size() > 4) __builtin_trap();
  if (password.size() < cpa::auth::kMinPasswordLength && problems.empty()) __builtin_trap();

  const double ratio = cpa::auth::quick_ratio(password, email);
  if (!(ratio >= 0.0 && ratio <= 1.0)) __builtin_trap();
  if (cpa::auth::quick_ratio(email, password) != ratio) __builtin_trap();
  (void)cpa::auth::too_similar(email, password);
  (void)cpa::auth::is_common_password(email);
  return 0;
}
