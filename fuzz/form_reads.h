// Shared by fuzz_json_body and fuzz_form_body: reads a parsed Body through
// http::Form the way the handlers do (src/api/*.cc), renders the resulting
// error as the HTTP layer would, and traps on a broken Form invariant.
#pragma once

#include <optional>
#include <string>

#include "api/password_policy.h"
#include "auth/password_rules.h"
#include "core/email.h"
#include "core/status.h"
#include "core/utf8.h"
#include "http/body.h"
#include "http/fields.h"
#include "http/render.h"

namespace cpa::fuzz {

inline void read_form(const http::Body& body) {
  http::Form form(body);
  std::optional<std::string> email = form.email("email");
  std::optional<std::string> new_email = form.email("new_email", /*required=*/false);
  std::optional<std::string> password = form.text("password", api::kPasswordField);
  std::optional<std::string> code = form.text("code", http::Text{.max_length = 6});
  std::optional<std::string> first = form.text("first_name", http::Text{.required = false,
                                                                        .allow_blank = true,
                                                                        .max_length = 150});
  std::optional<bool> terms = form.boolean("terms_accepted");
  std::optional<std::string> purpose =
      form.choice("purpose", {"email_verification", "password_recovery"});

  // What Form hands out obeys the rule it was asked for.
  if (email && (email->empty() || !is_valid_email(*email))) __builtin_trap();
  if (new_email && !is_valid_email(*new_email)) __builtin_trap();
  if (password && (password->empty() || utf8_length(*password) > auth::kMaxPasswordLength))
    __builtin_trap();
  if (code && (code->empty() || utf8_length(*code) > 6)) __builtin_trap();
  if (first && utf8_length(*first) > 150) __builtin_trap();
  if (purpose && *purpose != "email_verification" && *purpose != "password_recovery")
    __builtin_trap();
  if (email && utf8_length(*email) > kMaxEmailLength) __builtin_trap();
  // Every text a body yields is UTF-8, whatever the bytes or escapes sent.
  for (const std::optional<std::string>* text : {&email, &new_email, &password, &code, &first})
    if (*text && !is_valid_utf8(**text)) __builtin_trap();
  // A required field without a value is always an error, and a form whose
  // every read produced a value has no error.
  const bool required = email && password && code && terms && purpose;
  if (form.ok() && !required) __builtin_trap();
  if (required && new_email && first && !form.ok()) __builtin_trap();

  if (const http::Value* raw = form.raw("terms_accepted")) (void)http::parse_boolean(*raw);
  http::Response response = http::render_error(form.status());
  if (!form.ok() && response.status != 400) __builtin_trap();
  if (!is_valid_utf8(response.body)) __builtin_trap();
}

inline void check_body(const Result<http::Body>& parsed) {
  if (parsed.ok()) {
    read_form(parsed.value());
  } else {
    // A parse failure renders as a 4xx error body.
    http::Response response = http::render_error(parsed.status());
    if (response.status < 400 || response.status >= 500) __builtin_trap();
    if (!is_valid_utf8(response.body)) __builtin_trap();
  }
}

}  // namespace cpa::fuzz
