// Form: declarative, typed access to a parsed Body that collects DRF
// validation errors (API.md §1) field by field, in the order the handler asks
// for them. A handler reads its fields, adds its cross-field checks, then
// returns form.status() if anything failed: every failing field at once.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/body.h"

namespace cpa::http {

// DRF's CharField options.
struct Text {
  bool required = true;
  bool allow_blank = false;
  bool trim = true;          // passwords and PINs: false
  size_t max_length = 0;     // in characters; 0 = no limit
};

class Form {
 public:
  explicit Form(const Body& body) : body_(body) {}

  // A CharField. nullopt when absent (and not required) or invalid.
  std::optional<std::string> text(const std::string& name, Text rule = {});
  // An EmailField (trimmed; at most 254 characters; Django's validator).
  std::optional<std::string> email(const std::string& name, bool required = true);
  // A BooleanField: true/false, "true"/"false", "1"/"0" and DRF's other spellings.
  std::optional<bool> boolean(const std::string& name, bool required = true);
  // A ChoiceField.
  std::optional<std::string> choice(const std::string& name,
                                    std::initializer_list<std::string_view> choices);

  bool has(const std::string& name) const { return body_.find(name) != nullptr; }
  const Value* raw(const std::string& name) const { return body_.find(name); }

  void fail(const std::string& field, std::string message) { errors_.add(field, std::move(message)); }
  void fail_non_field(std::string message) { errors_.add("non_field_errors", std::move(message)); }
  bool failed(const std::string& field) const { return errors_.has(field); }

  bool ok() const { return errors_.empty(); }
  // The errors in the order the fields were read (however late a check on
  // one of them failed), non_field_errors last.
  Status status() const;

 private:
  // The common CharField steps: required, null, type, trim, blank. Returns
  // nullopt (having recorded any error) when there is no usable string.
  std::optional<std::string> string_value(const std::string& name, const Text& rule);

  void declare(const std::string& name);

  const Body& body_;
  FieldErrors errors_;
  std::vector<std::string> declared_;  // field names, in the order read
};

// DRF's BooleanField reading of one value; nullopt when it is not a boolean.
std::optional<bool> parse_boolean(const Value& v);

// Messages of API.md §1, shared by handlers and tests.
namespace msg {
inline constexpr const char* kRequired = "This field is required.";
inline constexpr const char* kNull = "This field may not be null.";
inline constexpr const char* kBlank = "This field may not be blank.";
inline constexpr const char* kNotString = "Not a valid string.";
inline constexpr const char* kEmail = "Enter a valid email address.";
inline constexpr const char* kBoolean = "Must be a valid boolean.";
inline constexpr const char* kInteger = "A valid integer is required.";
inline constexpr const char* kNullCharacters = "Null characters are not allowed.";
std::string max_length(size_t n);
std::string invalid_choice(std::string_view value);
}  // namespace msg

}  // namespace cpa::http
