// Outcome: what an admin command came to, and the exit status each kind
// means (README "Admin commands"): 0 done, 2 a usage error, 1 anything else.
//
// The store answers in Status, the API's error bodies; a command does not
// speak HTTP. The constructor from a Status is the one place where a store
// failure becomes a command's outcome, and it is implicit so that
// CPA_RETURN_IF_ERROR and CPA_ASSIGN_OR_RETURN pass store calls up as they
// are; a command's own refusals are made with the factories below.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace cpa::cli {

class Outcome {
 public:
  enum class Kind : uint8_t {
    kDone,
    kUsage,        // bad arguments: nothing was tried
    kRefused,      // could not do what was asked: an unknown user, an email taken
    kInvalid,      // a value broke rules (the password's): one message per rule
    kUnavailable,  // the database is busy or gone: worth trying again
    kInternal,     // any other storage failure
  };

  Outcome() = default;
  static Outcome Usage(std::string reason);
  static Outcome Refused(std::string reason);
  static Outcome Invalid(std::vector<std::string> messages);
  Outcome(const Status& status);  // NOLINT: implicit on purpose (above)

  bool ok() const { return kind_ == Kind::kDone; }
  Kind kind() const { return kind_; }
  bool is_storage_failure() const {
    return kind_ == Kind::kUnavailable || kind_ == Kind::kInternal;
  }
  // 0 when done, 2 for a usage error, else 1.
  int exit_status() const;
  // What went wrong, for people: one message, or one per broken rule. Empty
  // when done.
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  Outcome(Kind kind, std::vector<std::string> messages)
      : kind_(kind), messages_(std::move(messages)) {}

  Kind kind_ = Kind::kDone;
  std::vector<std::string> messages_;
};

// A value, or the Outcome of a command that could not produce it.
template <typename T>
using Produced = Result<T, Outcome>;

}  // namespace cpa::cli
