// The dispatcher: the one table of administrative commands (names, operands,
// options, help text, handler) and the steps every command shares: parse,
// answer --help, prepare the state dir, open the store, run, report.
#include "cli/commands.h"

#include <algorithm>
#include <cstdio>

#include "cli/cli.h"
#include "core/log.h"
#include "proc/master.h"
#include "store/store.h"

namespace cpa::cli {

namespace {

Status migrate(Context& ctx, const Args&) {
  // prepare_state() has migrated by the time any command runs.
  printf("database %s is at schema version %d\n", ctx.config.db_path.c_str(),
         store::Store::schema_version());
  return Status();
}

#define CPA_USER_REF "ID|EMAIL is a user id (all digits) or an email address (in any case)."
constexpr std::string_view kUserRef = CPA_USER_REF;
constexpr std::string_view kLimitHelp = "at most N rows (default 100, at most 100000)";

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {.group = "migrate",
       .summary = "Create or upgrade the database schema.",
       .run = migrate},
      {.group = "createsuperuser",
       .synopsis = "--email E",
       .summary = "Create an active, email-verified staff and superuser account.",
       .details = "The password is asked twice without echo on a terminal; otherwise it is\n"
                  "the first line of standard input. The API's password rules apply.",
       .options = {{"--email", "E", "the account's email address (required)"}},
       .run = createsuperuser},
      {.group = "users",
       .name = "list",
       .synopsis = "[--staff] [--limit N]",
       .summary = "List accounts by id.",
       .details = "Columns: id, email, active, staff, verified, joined, last login (UTC).",
       .options = {{"--staff", "", "staff accounts only"}, {"--limit", "N", kLimitHelp}},
       .run = users_list},
      {.group = "users",
       .name = "show",
       .synopsis = "ID|EMAIL",
       .summary = "Show every field of one account.",
       .details = kUserRef,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_show},
      {.group = "users",
       .name = "activate",
       .synopsis = "ID|EMAIL",
       .summary = "Let an account log in again.",
       .details = kUserRef,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_activate},
      {.group = "users",
       .name = "deactivate",
       .synopsis = "ID|EMAIL",
       .summary = "Deactivate an account and revoke its tokens.",
       .details = kUserRef,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_deactivate},
      {.group = "users",
       .name = "delete",
       .synopsis = "ID|EMAIL",
       .summary = "Delete an account, its codes and its tokens.",
       .details = "Its email may register again at once.\n" CPA_USER_REF,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_delete},
      {.group = "users",
       .name = "sessions",
       .synopsis = "ID|EMAIL",
       .summary = "List an account's live sessions, most recently used first.",
       .details = "Columns: id, created, last used (UTC), ip, user agent (of the last use).\n"
                  CPA_USER_REF,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_sessions},
      {.group = "users",
       .name = "logout",
       .synopsis = "ID|EMAIL [--session ID]",
       .summary = "End every session of an account, or one: revoke their tokens.",
       .details = "The account stays active; it may log in again.\n" CPA_USER_REF,
       .options = {{"--session", "ID", "only this session (an id from `users sessions`)"}},
       .min_operands = 1,
       .max_operands = 1,
       .run = users_logout},
      {.group = "outbox",
       .name = "list",
       .synopsis = "[--pending|--failed] [--limit N]",
       .summary = "List queued mail, newest first.",
       .details = "Columns: id, status, attempts, recipient, subject, created (UTC), last error.\n"
                  "Status: pending, sent, failed, or expired (a code mail whose code was\n"
                  "replaced, used or expired before it could go: never sent).\n"
                  "Bodies (they carry codes) are never shown.",
       .options = {{"--pending", "", "pending messages only"},
                   {"--failed", "", "failed messages only"},
                   {"--limit", "N", kLimitHelp}},
       .run = outbox_list},
      {.group = "outbox",
       .name = "retry",
       .synopsis = "ID|--all-failed",
       .summary = "Make unsent mail due now.",
       .details = "ID: one message that is pending or failed (not sent, not expired);\n"
                  "--all-failed: every failed one.\n"
                  "Prints how many messages were made due.",
       .options = {{"--all-failed", "", "every failed message"}},
       .max_operands = 1,
       .run = outbox_retry},
  };
  return table;
}

// `cryptopay-auth users --help`: the group's commands from the table.
std::string group_usage(std::string_view group) {
  std::vector<std::pair<std::string, std::string_view>> lines;
  size_t width = 0;
  for (const Command& c : command_table()) {
    if (c.group != group) continue;
    lines.emplace_back("  " + std::string(c.name) + " " + std::string(c.synopsis), c.summary);
    width = std::max(width, lines.back().first.size());
  }
  std::string out = "usage: cryptopay-auth " + std::string(group) + " COMMAND [ARGS]\n\ncommands:\n";
  for (auto& [line, summary] : lines) {
    line.resize(width + 2, ' ');
    out.append(line).append(summary).append("\n");
  }
  out += "\n`cryptopay-auth " + std::string(group) + " COMMAND --help` for more.\n";
  return out;
}

bool is_help(const std::string& arg) { return arg == "--help" || arg == "-h"; }

// Exit status of a usage error before a Command was found.
int usage_failure(std::string_view name, std::string reason) {
  print_error(name, usage_error(std::move(reason)));
  return 2;
}

}  // namespace

int run_command(const std::string& command, const std::vector<std::string>& args, Config config) {
  log::set_role("cli");
  log::set_stderr_quiet(true);

  // Find the entry: the command itself, or its subcommand.
  const Command* found = nullptr;
  bool has_subcommands = false;
  for (const Command& c : command_table()) {
    if (c.group != command) continue;
    has_subcommands = !c.name.empty();
    if (!has_subcommands) found = &c;
  }
  if (!found && !has_subcommands) {
    fprintf(stderr, "cryptopay-auth: unknown command '%s' (see --help)\n", printable(command).c_str());
    return 2;
  }
  std::vector<std::string> rest = args;
  if (has_subcommands) {
    if (rest.empty()) return usage_failure(command, "missing subcommand");
    if (is_help(rest[0])) {
      fputs(group_usage(command).c_str(), stdout);
      return 0;
    }
    for (const Command& c : command_table())
      if (c.group == command && c.name == rest[0]) found = &c;
    if (!found) return usage_failure(command, "unknown subcommand '" + printable(rest[0]) + "'");
    rest.erase(rest.begin());
  }

  const std::string name = found->full_name();
  Args parsed;
  Status st = parse_args(*found, rest, &parsed);
  if (parsed.help) {
    fputs(found->usage().c_str(), stdout);
    return 0;
  }
  if (!st.ok()) {
    print_error(name, st);
    return exit_status(st);
  }

  std::string error;
  if (!proc::prepare_state(&config, &error)) {
    print_error(name, failure(error));
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store =
      store::Store::open(config.db_path, config.db_busy_timeout_ms);
  if (!store.ok()) {
    print_error(name, store.status());
    return exit_status(store.status());
  }
  SystemClock clock;
  SystemRng rng;
  Context ctx{config, **store, clock, rng};
  st = found->run(ctx, parsed);
  fflush(stdout);
  print_error(name, st);
  return exit_status(st);
}

}  // namespace cpa::cli
