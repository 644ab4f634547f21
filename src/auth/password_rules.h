// Password rules: Django's four default validators, with their messages, in
// Django's order (API.md §3):
//   similar to the email, too short (< 8), too common, entirely numeric.
// Every rule that fails is reported. The 128-character limit is the field's
// (kMaxPasswordLength), checked before these.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cpa::auth {

inline constexpr int kMinPasswordLength = 8;
// In characters; longer is refused before any validator runs, as DRF's
// CharField(max_length=128) does.
inline constexpr size_t kMaxPasswordLength = 128;

namespace password_msg {
inline constexpr const char* kTooSimilar = "The password is too similar to the email.";
inline constexpr const char* kTooShort =
    "This password is too short. It must contain at least 8 characters.";
inline constexpr const char* kTooCommon = "This password is too common.";
inline constexpr const char* kNumeric = "This password is entirely numeric.";
}  // namespace password_msg

// Messages for every rule `password` breaks; empty when it is acceptable.
std::vector<std::string> password_problems(std::string_view password, std::string_view email);

// Django's UserAttributeSimilarityValidator against one attribute value
// (max_similarity 0.7): the lower-cased password against the lower-cased
// value and each of its parts split on non-word characters.
bool too_similar(std::string_view password, std::string_view attribute);

// difflib.SequenceMatcher(a, b).quick_ratio(), over Unicode code points.
double quick_ratio(std::string_view a, std::string_view b);

// True when the lower-cased, stripped password is in the embedded list
// (data/common-passwords.txt.gz).
bool is_common_password(std::string_view password);

}  // namespace cpa::auth
