// cryptopay-auth: the one binary. `serve` runs the pool (behind the system
// nginx), `run` runs nginx and the pool together (make run), and the other
// commands administer the database from the shell.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "api/routes.h"
#include "cli/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "proc/master.h"
#include "proc/title.h"

namespace {

const char kUsage[] =
    "usage: cryptopay-auth [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run                      nginx on 127.0.0.1:$AUTH_HTTP_PORT + the pool + the mailer\n"
    "  serve                    the pool and the mailer on $AUTH_SOCKET (behind your nginx)\n"
    "  migrate                  create or upgrade the database schema\n"
    "  createsuperuser --email E  create an active staff account\n"
    "  users list|show|activate|deactivate|delete ...\n"
    "  outbox list|retry ...\n"
    "  routes                   the route table: METHOD, path, public|user (one a line)\n"
    "\n"
    "Configuration comes from the environment (AUTH_*), over the values of the\n"
    "env file given with --config. `cryptopay-auth COMMAND --help` for more.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // After args are copied: the processes' titles take argv's memory.
  cpa::proc::init_process_title(argc, argv);
  std::string config_file;
  while (!args.empty() && args[0].rfind("--config", 0) == 0) {
    if (args[0] == "--config" && args.size() >= 2) {
      config_file = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else if (args[0].rfind("--config=", 0) == 0) {
      config_file = args[0].substr(9);
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

  // The route table needs no configuration: tests and tools read it as is.
  if (args[0] == "routes") {
    if (args.size() > 1) {
      fputs("usage: cryptopay-auth routes\n", args[1] == "--help" ? stdout : stderr);
      return args[1] == "--help" ? 0 : 2;
    }
    fputs(cpa::api::route_listing().c_str(), stdout);
    return 0;
  }

  std::string error;
  cpa::Environment file_env;
  if (!config_file.empty() && !cpa::parse_env_file(config_file, &file_env, &error)) {
    fprintf(stderr, "cryptopay-auth: %s\n", error.c_str());
    return 2;
  }
  std::optional<cpa::Config> config = cpa::load_config(cpa::process_environment(), file_env, &error);
  if (!config) {
    // One line per problem, each naming its variable.
    std::string lines = "cryptopay-auth: configuration error: " + error;
    for (size_t at = lines.find('\n'); at != std::string::npos; at = lines.find('\n', at + 1))
      lines.replace(at, 1, "\ncryptopay-auth: configuration error: ");
    fprintf(stderr, "%s\n", lines.c_str());
    return 2;
  }

  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "run" || command == "serve") {
    if (!args.empty()) {
      fprintf(stderr, "usage: cryptopay-auth %s\n", command.c_str());
      return args[0] == "--help" ? 0 : 2;
    }
    cpa::proc::MasterOptions options;
    options.with_nginx = command == "run";
    options.config_file = config_file;
    return cpa::proc::run_master(std::move(*config), options);
  }
  return cpa::cli::run_command(command, args, std::move(*config));
}
