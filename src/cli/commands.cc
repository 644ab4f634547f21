#include "cli/commands.h"

#include <cstdio>

#include "core/log.h"
#include "proc/master.h"
#include "store/store.h"

namespace cpa::cli {

int run_command(const std::string& command, const std::vector<std::string>& args, Config config) {
  log::set_role("cli");
  log::set_stderr_quiet(true);
  if (command == "migrate") {
    if (!args.empty()) {
      fputs("usage: cryptopay-auth migrate\n", args[0] == "--help" ? stdout : stderr);
      return args[0] == "--help" ? 0 : 2;
    }
    std::string error;
    if (!proc::prepare_state(&config, &error)) {
      fprintf(stderr, "cryptopay-auth migrate: %s\n", error.c_str());
      return 1;
    }
    printf("database %s is at schema version %d\n", config.db_path.c_str(),
           store::Store::schema_version());
    return 0;
  }
  fprintf(stderr, "cryptopay-auth: unknown command '%s' (see --help)\n", command.c_str());
  return 2;
}

}  // namespace cpa::cli
