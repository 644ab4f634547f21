// The commands of `cryptopay-auth` after its global options: serve and run
// (the service), and the administrative ones (API.md §8): migrate,
// createsuperuser, users, outbox. An admin command prints its result on
// stdout, a one-line reason on stderr when it fails, and returns the exit
// status.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace cpa::cli {

// `config_option`: --config FILE, or empty (then the default lookup of
// find_config_file()). The configuration is loaded after --help is answered.
int run_command(const std::string& command, const std::vector<std::string>& args,
                const std::string& config_option);

}  // namespace cpa::cli
