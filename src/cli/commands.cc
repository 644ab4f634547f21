// The dispatcher: the one table of commands (names, operands, options, help
// text, handler) and the steps every command shares: parse, answer --help,
// load the configuration, prepare the state dir, open the store, run, report.
#include "cli/commands.h"

#include <algorithm>
#include <cstdio>

#include "cli/cli.h"
#include "core/build.h"
#include "core/log.h"
#include "state/prepare.h"
#include "store/store.h"

namespace cpa::cli {

namespace {

Outcome migrate(Context& ctx, const Args&) {
  // prepare_state() has migrated by the time any command runs.
  printf("database %s is at schema version %d\n", ctx.config.database_for_display().c_str(),
         store::Store::schema_version());
  return Outcome();
}

// What `serve` and `run` share in their --help.
#define CPA_CONFIG_HELP                                                        \
  "\nThe env file: --config FILE, else $CRYPTOPAY_AUTH_CONFIG, else\n"         \
  CPA_DEFAULT_CONFIG_FILE " when it exists; variables set in the environment\n" \
  "win over it. Every variable is in README.md, \"Configuration\".\n"
#define CPA_SIGNALS_HELP                                                                      \
  "\nSignals, to the master (its pid is in $AUTH_STATE_DIR/cryptopay-auth.pid):\n"           \
  "  TERM, INT, QUIT  stop gracefully: requests in flight finish, then the mailer\n"         \
  "                   finishes the message in hand\n"                                        \
  "  HUP              reload: read the configuration again and replace the workers\n"      \
  "                   and the mailer (paths, sockets and the key stay)\n"                    \
  "  USR1             reopen the log file in every process (after logrotate)\n"             \
  "  USR2             upgrade in place: run the binary on disk in this pid, keeping\n"      \
  "                   the sockets; if it cannot start, nothing changes (the log says why)\n" \
  "  WINCH, TTIN, TTOU, ALRM, PIPE  ignored"

#define CPA_USER_REF "ID|EMAIL is a user id (all digits) or an email address (in any case)."
constexpr std::string_view kUserRef = CPA_USER_REF;
constexpr std::string_view kLimitHelp = "at most N rows (default 100, at most 100000)";

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {.group = "serve",
       .summary = "Run the FastCGI pool and the mailer in the foreground, behind your nginx.",
       .details =
           "What systemd runs (nginx/cryptopay-auth.service). It creates what is missing\n"
           "(the state dir, 0700; the secret key; the database), brings the schema up to\n"
           "date, listens on AUTH_SOCKET and AUTH_HASH_SOCKET (mode 0660, for nginx's\n"
           "group), and runs AUTH_WORKERS workers, AUTH_HASH_WORKERS hashers (the\n"
           "password routes) and one mailer, restarting any that dies.\n"
           "\n"
           "Variables that matter most:\n"
           "  AUTH_STATE_DIR     database, secret key, pid file, log (default ./var)\n"
           "  AUTH_SOCKET        the pool's socket: nginx's fastcgi_pass\n"
           "  AUTH_HASH_SOCKET   the socket of the password-hashing pool\n"
           "  AUTH_WORKERS, AUTH_HASH_WORKERS   the two pools' sizes\n"
           "  AUTH_LOG_FILE      the log file (default $AUTH_STATE_DIR/auth.log;\n"
           "                     \"-\": stderr only, for journald)\n"
           "  AUTH_MAIL_BACKEND, AUTH_SMTP_URL, AUTH_MAIL_FROM   mail delivery\n"
           CPA_CONFIG_HELP CPA_SIGNALS_HELP,
       .run_setup = serve},
      {.group = "run",
       .summary = "Run nginx on 127.0.0.1:$AUTH_HTTP_PORT in front of the pool and the mailer.",
       .details =
           "For development and `make run`, in the foreground; in production, `serve`\n"
           "runs behind the system nginx. nginx is started from the built-in template\n"
           "(or AUTH_NGINX_TEMPLATE) rendered into the state dir. Everything lives under\n"
           "AUTH_STATE_DIR: the database, the secret key, the sockets, nginx's config and\n"
           "logs, auth.log and, with the file mail backend, each mail as an .eml file in\n"
           "mail/.\n"
           "\n"
           "Variables that matter most:\n"
           "  AUTH_HTTP_PORT     the port on 127.0.0.1 (default 8080)\n"
           "  AUTH_STATE_DIR     everything above (default ./var)\n"
           "  AUTH_MAIL_BACKEND  file (default) or smtp\n"
           "  AUTH_THROTTLE      off: no per-address request limits in nginx (load tests)\n"
           "  AUTH_NGINX_BIN     the nginx binary (default /usr/sbin/nginx)\n"
           CPA_CONFIG_HELP CPA_SIGNALS_HELP
           "\nTERM or Ctrl-C stops nginx first, then the pool, then the mailer; USR1 also\n"
           "makes nginx reopen its logs.",
       .run_setup = run_with_nginx},
      {.group = "check",
       .synopsis = "[--smtp]",
       .summary = "Check the configuration and what the service needs, as `nginx -t` does.",
       .details =
           "Reads the configuration as serve does, then looks at the state dir, the secret\n"
           "key, the database (there, private, writable, at this binary's schema version),\n"
           "the directories of both sockets, the log file and the mail backend. It changes\n"
           "nothing: the database is opened read-only and never migrated, so it may run\n"
           "beside the service, as the service's user. One line per check; exit 0 when\n"
           "every check passed, 1 otherwise.",
       .options = {{"--smtp", "", "also connect to AUTH_SMTP_URL (greeting, EHLO, TLS, AUTH)"}},
       .run_setup = check,
       .reports_config_errors = true},
      {.group = "migrate",
       .summary = "Create or upgrade the database schema.",
       .details = "Creates the state dir, the secret key and the database when missing; the\n"
                  "schema moves forward only, and a database newer than this binary is refused.",
       .run = migrate,
       .state = state::StateUse::kCreate},
      {.group = "backup",
       .synopsis = "FILE [--force]",
       .summary = "Write a consistent copy of the live database to FILE, while it serves.",
       .details =
           "SQLite's online backup: one snapshot, every write acknowledged before it\n"
           "began included. The copy is built as FILE.tmp (mode 0600), compacted, checked\n"
           "with PRAGMA integrity_check, synced, then renamed to FILE. Keep the secret key\n"
           "with it (secret.key, or AUTH_SECRET_KEY): without it the copy's tokens and\n"
           "codes are invalid. Restoring: README.md, \"Backup and restore\".",
       .options = {{"--force", "", "replace FILE if it exists"}},
       .min_operands = 1,
       .max_operands = 1,
       .run = backup,
       .audited = true},
      {.group = "migrate-data",
       .synopsis = "--to URL",
       .summary = "Copy this SQLite database into an empty PostgreSQL database (URL).",
       .details =
           "For moving to PostgreSQL (README.md, \"Moving from SQLite to PostgreSQL\").\n"
           "Stop the service first: it refuses while the pid file names a live process\n"
           "or a process listens on the sockets. Creates the schema in URL (its database\n"
           "must exist and hold no rows), then copies every table of AUTH_DB_PATH in one\n"
           "transaction (all or nothing): users with their ids, passwords and PINs,\n"
           "codes, tokens and sessions (revocations kept), the outbox as it is; new ids\n"
           "continue after the copied ones. Then compares the row counts of each table.\n"
           "The secret key is not in the database: keep the same one. URL's password is\n"
           "never printed nor logged; PGPASSWORD or ~/.pgpass keep it off the command line.",
       .options = {{"--to", "URL", "postgresql://user:password@host:port/database (required)"}},
       .run = migrate_data,
       .audited = true},
      {.group = "createsuperuser",
       .synopsis = "--email E",
       .summary = "Create an active, email-verified staff and superuser account.",
       .details = "The password is asked twice without echo on a terminal; otherwise it is\n"
                  "the first line of standard input. The API's password rules apply.",
       .options = {{"--email", "E", "the account's email address (required)"}},
       .run = createsuperuser,
       .audited = true},
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
       .run = users_activate,
       .audited = true},
      {.group = "users",
       .name = "deactivate",
       .synopsis = "ID|EMAIL",
       .summary = "Deactivate an account and revoke its tokens.",
       .details = kUserRef,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_deactivate,
       .audited = true},
      {.group = "users",
       .name = "delete",
       .synopsis = "ID|EMAIL",
       .summary = "Delete an account, its codes and its tokens.",
       .details = "Its email may register again at once.\n" CPA_USER_REF,
       .min_operands = 1,
       .max_operands = 1,
       .run = users_delete,
       .audited = true},
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
       .run = users_logout,
       .audited = true},
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
       .run = outbox_retry,
       .audited = true},
      // Hidden: not in the usage text (main.cc), a tool for make bench rather
      // than for admins; `time-hash --help` still answers.
      {.group = "time-hash",
       .synopsis = "N ITERATIONS",
       .summary = "Time N password hashes of ours, one after another; JSON on one line.",
       .details =
           "For make bench (bench/bounds.py): the login bound is cores / the fastest of\n"
           "them. The hash is auth/pbkdf2's PBKDF2-HMAC-SHA256, what every login spends,\n"
           "with ITERATIONS iterations. N is 1 to 1000. Reads no configuration and\n"
           "touches no file.",
       .min_operands = 2,
       .max_operands = 2,
       .run_alone = time_hash},
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

// The env file (find_config_file) and the configuration over it.
Setup load_setup(const std::string& config_option) {
  Setup setup;
  Environment env = process_environment();
  setup.file = find_config_file(config_option, env, kDefaultConfigFile);
  Environment file_env;
  if (!setup.file.path.empty() && !parse_env_file(setup.file.path, &file_env, &setup.error)) {
    if (setup.file.source == ConfigFile::Source::kDefault) {
      setup.error += " (read by default: run as a user who may read it, such as the service's "
                     "user, or name another with --config or CRYPTOPAY_AUTH_CONFIG)";
    }
    return setup;
  }
  setup.config = load_config(env, file_env, &setup.error);
  return setup;
}

// Says what went wrong, if anything; the exit status.
int report(std::string_view name, const Outcome& outcome) {
  print_error(name, outcome);
  return outcome.exit_status();
}

}  // namespace

int run_command(const std::string& command, const std::vector<std::string>& args,
                const std::string& config_option) {
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
    if (rest.empty()) return report(command, Outcome::Usage("missing subcommand"));
    if (is_help(rest[0])) {
      fputs(group_usage(command).c_str(), stdout);
      return 0;
    }
    for (const Command& c : command_table())
      if (c.group == command && c.name == rest[0]) found = &c;
    if (!found) {
      return report(command, Outcome::Usage("unknown subcommand '" + printable(rest[0]) + "'"));
    }
    rest.erase(rest.begin());
  }

  const std::string name = found->full_name();
  Args parsed;
  Outcome args_read = parse_args(*found, rest, &parsed);
  if (parsed.help) {
    fputs(found->usage().c_str(), stdout);
    return 0;
  }
  if (!args_read.ok()) return report(name, args_read);

  if (found->run_alone) return found->run_alone(parsed);

  Setup setup = load_setup(config_option);
  if (!setup.config && !found->reports_config_errors) {
    // One line per problem, each naming its variable.
    std::string lines = "cryptopay-auth: configuration error: " + setup.error;
    for (size_t at = lines.find('\n'); at != std::string::npos; at = lines.find('\n', at + 1))
      lines.replace(at, 1, "\ncryptopay-auth: configuration error: ");
    fprintf(stderr, "%s\n", lines.c_str());
    return 2;
  }
  if (found->run_setup) return found->run_setup(setup, parsed);

  log::set_role("cli");
  Config& config = *setup.config;
  // Only warnings and errors on stderr: the result goes to stdout. Without a
  // log file (AUTH_LOG_FILE=-), stderr is where the audit lines go.
  log::set_stderr_quiet(!config.log_file.empty());
  std::string error;
  if (!state::prepare_state(&config, found->state, &error)) {
    return report(name, Outcome::Refused(error));
  }
  // No change without its line in the log.
  if (found->audited && !log::open_file(config.log_file, &error)) {
    return report(name, Outcome::Refused(error));
  }
  Result<std::unique_ptr<store::Store>> store =
      store::Store::open(config.database(), config.db_busy_timeout_ms);
  if (!store.ok()) return report(name, store.status());
  SystemClock clock;
  SystemRng rng;
  Context ctx{config, **store, clock, rng};
  Outcome outcome = found->run(ctx, parsed);
  if (outcome.ok() && !ctx.done.empty()) printf("%s\n", ctx.done.c_str());
  if (outcome.ok() && !ctx.note.empty()) printf("%s\n", ctx.note.c_str());
  fflush(stdout);
  // A usage error found by the handler changed nothing: no line for it.
  if (found->audited && outcome.kind() != Outcome::Kind::kUsage) {
    audit(*found, rest, outcome, ctx.done);
  }
  return report(name, outcome);
}

}  // namespace cpa::cli
