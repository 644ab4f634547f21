// cryptopay-auth: the one binary. `serve` runs the pool (behind the system
// nginx), `run` runs nginx and the pool together (make run), and the other
// commands administer the database from the shell (cli/commands.cc holds
// the table of them all).
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "api/routes.h"
#include "cli/commands.h"
#include "core/build.h"
#include "core/config.h"
#include "core/version.h"
#include "proc/title.h"
#include "proc/upgrade.h"

namespace {

const char kUsage[] =
    "usage: cryptopay-auth [--config FILE] COMMAND [ARGS]\n"
    "       cryptopay-auth --version\n"
    "\n"
    "commands:\n"
    "  run                      nginx on 127.0.0.1:$AUTH_HTTP_PORT + the pool + the mailer\n"
    "  serve                    the pool and the mailer on $AUTH_SOCKET (behind your nginx)\n"
    "  check [--smtp]           check the configuration and the files, like nginx -t\n"
    "  migrate                  create or upgrade the database schema\n"
    "  backup FILE [--force]    a consistent copy of the live database\n"
    "  migrate-data --to URL    copy the SQLite database into an empty PostgreSQL one\n"
    "  createsuperuser --email E  create an active staff account\n"
    "  users list|show|activate|deactivate|delete|sessions|logout ...\n"
    "  outbox list|retry ...\n"
    "  routes                   the route table: METHOD, path, public|user (one a line)\n"
    "\n"
    "Configuration comes from the environment (AUTH_*), over the values of an env\n"
    "file: --config FILE, else $CRYPTOPAY_AUTH_CONFIG (empty: none), else\n"
    CPA_DEFAULT_CONFIG_FILE " when it exists.\n"
    "`cryptopay-auth COMMAND --help` for more.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // What an upgrade (SIGUSR2) executes again: this command line, this path.
  cpa::proc::remember_command_line(argc, argv);
  // After args are copied: the processes' titles take argv's memory.
  cpa::proc::init_process_title(argc, argv);
  // Everything this binary creates (state dir, database, key, log, backups)
  // is private to its user, whatever umask it was started with; the sockets
  // are opened to the group explicitly.
  umask(umask(0) | 077);

  std::string config_option;
  while (!args.empty() && args[0].rfind("--config", 0) == 0) {
    if (args[0] == "--config" && args.size() >= 2) {
      config_option = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else if (args[0].rfind("--config=", 0) == 0) {
      config_option = args[0].substr(9);
      args.erase(args.begin());
    } else {
      fputs("cryptopay-auth: --config needs a file (see --help)\n", stderr);
      return 2;
    }
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    FILE* out = args.empty() ? stderr : stdout;
    fputs(kUsage, out);
    if (!args.empty()) fprintf(out, "\nconfiguration variables:\n%s", cpa::config_help().c_str());
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    const std::string_view version = cpa::version();  // project(... VERSION) in CMakeLists.txt
    printf("cryptopay-auth %.*s\n", static_cast<int>(version.size()), version.data());
    return 0;
  }
  // The route table needs no configuration: tests and tools read it as is.
  if (args[0] == "routes") {
    if (args.size() > 1) {
      fputs("usage: cryptopay-auth routes\n", args[1] == "--help" ? stdout : stderr);
      return args[1] == "--help" ? 0 : 2;
    }
    fputs(cpa::api::route_listing().c_str(), stdout);
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  return cpa::cli::run_command(command, args, config_option);
}
