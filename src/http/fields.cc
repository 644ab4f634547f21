#include "http/fields.h"

#include <cstdlib>

#include "core/email.h"
#include "core/utf8.h"

namespace cpa::http {

namespace msg {
std::string max_length(size_t n) {
  return "Ensure this field has no more than " + std::to_string(n) + " characters.";
}
std::string invalid_choice(std::string_view value) {
  std::string out = "\"";
  out.append(value).append("\" is not a valid choice.");
  return out;
}
}  // namespace msg

void Form::declare(const std::string& name) {
  for (const std::string& d : declared_)
    if (d == name) return;
  declared_.push_back(name);
}

Status Form::status() const {
  if (ok()) return Status();
  FieldErrors ordered;
  auto copy = [&](const std::string& name) {
    for (const auto& [field, messages] : errors_.fields)
      if (field == name)
        for (const std::string& m : messages) ordered.add(field, m);
  };
  for (const std::string& name : declared_) copy(name);
  for (const auto& [field, messages] : errors_.fields)
    if (!ordered.has(field) && field != "non_field_errors") copy(field);
  copy("non_field_errors");
  return Status::Validation(std::move(ordered));
}

std::optional<std::string> Form::string_value(const std::string& name, const Text& rule) {
  declare(name);
  const Value* v = body_.find(name);
  if (!v) {
    if (rule.required) fail(name, msg::kRequired);
    return std::nullopt;
  }
  std::string s;
  switch (v->kind) {
    case Value::Kind::kNull:
      fail(name, msg::kNull);
      return std::nullopt;
    case Value::Kind::kString:
    case Value::Kind::kNumber:  // DRF's CharField takes numbers as str(number)
      s = v->text;
      break;
    default:
      fail(name, msg::kNotString);
      return std::nullopt;
  }
  if (rule.trim) s = std::string(strip_python_whitespace(s));
  if (s.empty()) {
    if (!rule.allow_blank) {
      fail(name, msg::kBlank);
      return std::nullopt;
    }
  }
  return s;
}

std::optional<std::string> Form::text(const std::string& name, Text rule) {
  std::optional<std::string> s = string_value(name, rule);
  if (!s) return std::nullopt;
  // DRF runs every validator of the field and reports each that fails.
  bool valid = true;
  if (rule.max_length && utf8_length(*s) > rule.max_length) {
    fail(name, msg::max_length(rule.max_length));
    valid = false;
  }
  if (s->find('\0') != std::string::npos) {
    fail(name, msg::kNullCharacters);
    valid = false;
  }
  if (!valid) return std::nullopt;
  return s;
}

std::optional<std::string> Form::email(const std::string& name, bool required) {
  Text rule;
  rule.required = required;
  std::optional<std::string> s = string_value(name, rule);
  if (!s) return std::nullopt;
  // DRF runs every validator and reports each that fails: length, then format.
  bool valid = true;
  if (utf8_length(*s) > kMaxEmailLength) {
    fail(name, msg::max_length(kMaxEmailLength));
    valid = false;
  }
  if (s->find('\0') != std::string::npos) {
    fail(name, msg::kNullCharacters);
    valid = false;
  }
  if (!is_valid_email(*s)) {
    fail(name, msg::kEmail);
    valid = false;
  }
  if (!valid) return std::nullopt;
  return s;
}

std::optional<bool> parse_boolean(const Value& v) {
  if (v.kind == Value::Kind::kBool) return v.boolean;
  if (v.kind != Value::Kind::kString && v.kind != Value::Kind::kNumber) return std::nullopt;
  static const std::string_view kTrue[] = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true",
                                           "True", "TRUE", "on", "On", "ON", "1"};
  static const std::string_view kFalse[] = {"f", "F", "n", "N", "no", "No", "NO", "false",
                                            "False", "FALSE", "off", "Off", "OFF", "0"};
  if (v.kind == Value::Kind::kNumber) {
    // Python compares the parsed number: 1, 1.0 and 1e0 are all True.
    char* end = nullptr;
    double d = std::strtod(v.text.c_str(), &end);
    if (end && *end == '\0') {
      if (d == 1.0) return true;
      if (d == 0.0) return false;
    }
    return std::nullopt;
  }
  std::string_view t = v.text;
  for (std::string_view s : kTrue)
    if (t == s) return true;
  for (std::string_view s : kFalse)
    if (t == s) return false;
  return std::nullopt;
}

std::optional<bool> Form::boolean(const std::string& name, bool required) {
  declare(name);
  const Value* v = body_.find(name);
  if (!v) {
    if (required) fail(name, msg::kRequired);
    return std::nullopt;
  }
  if (v->kind == Value::Kind::kNull) {
    fail(name, msg::kNull);
    return std::nullopt;
  }
  std::optional<bool> b = parse_boolean(*v);
  if (!b) fail(name, msg::kBoolean);
  return b;
}

std::optional<std::string> Form::choice(const std::string& name,
                                        std::initializer_list<std::string_view> choices) {
  declare(name);
  const Value* v = body_.find(name);
  if (!v) {
    fail(name, msg::kRequired);
    return std::nullopt;
  }
  if (v->kind == Value::Kind::kNull) {
    fail(name, msg::kNull);
    return std::nullopt;
  }
  // DRF's ChoiceField compares str(value); "" is just another invalid choice.
  const std::string& s = v->text;
  for (std::string_view c : choices)
    if (s == c) return s;
  fail(name, msg::invalid_choice(s));
  return std::nullopt;
}

}  // namespace cpa::http
