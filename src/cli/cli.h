// What the administrative commands share: the command table's entry type,
// argument parsing, the errors a command ends with, user lookup by ID|EMAIL,
// and output helpers. commands.cc holds the one table and dispatches; each
// command group lives in its own file (users.cc, outbox.cc,
// createsuperuser.cc) and exports its handlers here.
//
// A handler returns an Outcome (outcome.h), which says the exit status: done
// (0), a usage error (2), a refusal with its one-line reason, broken rules
// (one line per message) or a storage failure (1). It prints its result on
// stdout only after the change committed; a command that changes
// state instead leaves its one-line result in Context::done, which the
// dispatcher prints and writes to the log with who ran what (audit.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "cli/outcome.h"
#include "state/prepare.h"
#include "store/store.h"

namespace cpa::cli {

// --- the command table

struct Option {
  std::string_view name;   // "--limit"
  std::string_view value;  // placeholder of its value ("N"); empty for a flag
  std::string_view help;
};

struct Args;
struct Context;
struct Setup;

struct Command {
  std::string_view group = {};     // "users"
  std::string_view name = {};      // "list"; empty for a command without subcommands
  std::string_view synopsis = {};  // what follows the command's name: "[--staff] [--limit N]"
  std::string_view summary = {};   // one line, also listed by the group's --help
  std::string_view details = {};   // more text for --help; may be empty
  std::vector<Option> options = {};
  int min_operands = 0;
  int max_operands = 0;
  // Runs with the store open, after the state was prepared for `state`.
  Outcome (*run)(Context& ctx, const Args& args) = nullptr;
  // Admin commands find the database and the key as serve left them;
  // migrate may create them.
  state::StateUse state = state::StateUse::kExisting;
  // Instead of `run`: a command that prepares the state itself or not at all
  // (serve, run, check). It gets the configuration as loaded; returns the
  // exit status.
  int (*run_setup)(const Setup& setup, const Args& args) = nullptr;
  // Changes state: one line in the log per run (audit.cc).
  bool audited = false;
  // A run_setup command that reports a configuration that failed to load
  // itself (check); for the others the dispatcher does, exit 2.
  bool reports_config_errors = false;
  // Instead of `run` and `run_setup`: a tool that needs no configuration and
  // touches no file (time-hash). It runs before the configuration is loaded,
  // so that an env file with errors, or none, changes nothing. Returns the
  // exit status.
  int (*run_alone)(const Args& args) = nullptr;

  // "users list", or "migrate": how messages name the command.
  std::string full_name() const;
  // The text of `cryptopay-auth <command> --help`.
  std::string usage() const;
};

// A command line parsed by its Command's options.
struct Args {
  std::vector<std::string> operands;
  std::map<std::string, std::string, std::less<>> options;  // flags map to ""
  bool help = false;                                         // --help or -h seen

  bool has(std::string_view option) const { return options.find(option) != options.end(); }
  const std::string* value(std::string_view option) const;
};

// Accepts `--name VALUE`, `--name=VALUE`, flags, `--` and `-h`/`--help`
// anywhere. Returns a usage error for an unknown or repeated option, a
// missing value, or a wrong number of operands (unless help was asked).
Outcome parse_args(const Command& command, const std::vector<std::string>& argv, Args* out);

// The configuration a command runs with, and where it came from.
struct Setup {
  ConfigFile file;               // the env file read; empty path: none
  std::optional<Config> config;  // nullopt: `error` says why
  std::string error;
};

// What a handler works with. The store is open and migrated.
struct Context {
  const Config& config;
  store::Store& store;
  const Clock& clock;
  Rng& rng;
  // An audited command's result, one line ("deactivated user 2 b@example.com
  // and revoked its tokens"): printed on stdout and logged once it succeeded.
  std::string done = {};
  // More for whoever runs it, printed after `done` but not logged.
  std::string note = {};
};

// --- outcomes (outcome.h)

// "cryptopay-auth <command>: <message>" on stderr, one line per message; a
// usage error points at --help, an unavailable database says to try again.
// Nothing for an outcome that is done.
void print_error(std::string_view command, const Outcome& outcome);

// --- audit (audit.cc)

// The log line of an audited command that ran: "admin: users deactivate 2
// by root: deactivated user 2 ..." or "...: failed: no user with id 2".
// `argv`: what followed the command's name, as typed (a password never is:
// those are read from stdin).
void audit(const Command& command, const std::vector<std::string>& argv, const Outcome& result,
           const std::string& done);

// --- arguments

// The value of --limit: a positive integer at most `max`; `fallback` when absent.
Produced<int64_t> limit_option(const Args& args, int64_t fallback, int64_t max);

// The user named by ID|EMAIL: all digits is an id, anything else an email
// (looked up by its key, so in any case). Unknown: a refusal naming it.
Produced<store::User> find_user(store::Store& store, const std::string& ref);

// Store::write for a command: `body` runs in one write transaction, rolled
// back when it ends in a storage failure; a refusal commits what it wrote,
// as the API's errors do.
Outcome write(store::Store& store, const std::function<Outcome()>& body);

// --- output

// Control characters and backslashes escaped (\n, \t, \xNN, \\): text from
// users or relays cannot move the cursor or forge lines.
std::string printable(std::string_view s);
// "2026-11-24T21:05:00Z"; "-" for nullopt.
std::string iso_time(int64_t t);
std::string iso_time(const std::optional<int64_t>& t);
inline const char* yes_no(bool b) { return b ? "yes" : "no"; }

// Left-aligned columns two spaces apart, a header first, on stdout.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// --- handlers (one file per group)

// serve.cc
int serve(const Setup& setup, const Args& args);
int run_with_nginx(const Setup& setup, const Args& args);

// backup.cc
Outcome backup(Context& ctx, const Args& args);
// migrate_data.cc
Outcome migrate_data(Context& ctx, const Args& args);
// check.cc
int check(const Setup& setup, const Args& args);
// time_hash.cc
int time_hash(const Args& args);
// createsuperuser.cc
Outcome createsuperuser(Context& ctx, const Args& args);
// users.cc
Outcome users_list(Context& ctx, const Args& args);
Outcome users_show(Context& ctx, const Args& args);
Outcome users_activate(Context& ctx, const Args& args);
Outcome users_deactivate(Context& ctx, const Args& args);
Outcome users_delete(Context& ctx, const Args& args);
Outcome users_sessions(Context& ctx, const Args& args);
Outcome users_logout(Context& ctx, const Args& args);
// outbox.cc
Outcome outbox_list(Context& ctx, const Args& args);
Outcome outbox_retry(Context& ctx, const Args& args);

// Row limits of the list commands.
inline constexpr int64_t kDefaultListLimit = 100;
inline constexpr int64_t kMaxListLimit = 100000;

}  // namespace cpa::cli
