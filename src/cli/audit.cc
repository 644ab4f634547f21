// Audit lines: every admin command that changes state (createsuperuser,
// users activate/deactivate/delete/logout, outbox retry, backup,
// migrate-data) leaves one line in the service's log, beside the requests it
// affects: what was run, by whom, and what came of it. Never a password: an
// account's is never an argument, and a database URL's is masked.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/cli.h"
#include "core/log.h"

namespace cpa::cli {

namespace {

// "root", or "root (sudo from alice)": who ran it, as the system names them.
std::string invoker() {
  uid_t uid = getuid();
  struct passwd* pw = getpwuid(uid);
  std::string who = pw != nullptr ? pw->pw_name : "uid " + std::to_string(uid);
  // sudo sets it; informative only (any caller may set it), the uid is the fact.
  if (const char* sudo_user = getenv("SUDO_USER"); sudo_user != nullptr && *sudo_user != '\0')
    who += " (sudo from " + printable(sudo_user) + ")";
  return who;
}

// A failure as one line: its messages joined.
std::string one_line(const Outcome& outcome) {
  std::string out;
  for (const std::string& message : outcome.messages())
    out.append(out.empty() ? "" : " ").append(message);
  return out;
}

}  // namespace

void audit(const Command& command, const std::vector<std::string>& argv, const Outcome& result,
           const std::string& done) {
  std::string line = "admin: " + command.full_name();
  // A database URL may carry its password (migrate-data --to): never logged.
  for (const std::string& arg : argv) line.append(" ").append(printable(without_password(arg)));
  line.append(" by ").append(invoker()).append(": ");
  line.append(result.ok() ? done : "failed: " + printable(one_line(result)));
  log::info(line);
}

}  // namespace cpa::cli
