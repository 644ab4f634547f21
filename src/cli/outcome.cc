#include "cli/outcome.h"

namespace cpa::cli {

Outcome Outcome::Usage(std::string reason) { return Outcome(Kind::kUsage, {std::move(reason)}); }

Outcome Outcome::Refused(std::string reason) {
  return Outcome(Kind::kRefused, {std::move(reason)});
}

Outcome Outcome::Invalid(std::vector<std::string> messages) {
  return Outcome(Kind::kInvalid, std::move(messages));
}

Outcome::Outcome(const Status& status) {
  switch (status.kind()) {
    case Status::Kind::kOk:
      return;
    case Status::Kind::kUnavailable:
      kind_ = Kind::kUnavailable;
      messages_ = {"the database is busy or unavailable (" + status.reason() + ")"};
      return;
    case Status::Kind::kInternal:
      kind_ = Kind::kInternal;
      messages_ = {"internal error: " + status.reason()};
      return;
    case Status::Kind::kValidation:
    case Status::Kind::kDetail:
      // The store reports neither; one reaching a command is a bug, said as one.
      kind_ = Kind::kInternal;
      messages_ = {"internal error: unexpected " + std::to_string(status.http_status()) + " " +
                   status.detail()};
      return;
  }
}

int Outcome::exit_status() const {
  switch (kind_) {
    case Kind::kDone:
      return 0;
    case Kind::kUsage:
      return 2;
    case Kind::kRefused:
    case Kind::kInvalid:
    case Kind::kUnavailable:
    case Kind::kInternal:
      return 1;
  }
  return 1;
}

}  // namespace cpa::cli
