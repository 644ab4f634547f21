// The administrative commands of `cryptopay-auth` (API.md §8): migrate,
// createsuperuser, users, outbox. Each prints its result on stdout, a
// one-line reason on stderr when it fails, and returns the exit status.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace cpa::cli {

int run_command(const std::string& command, const std::vector<std::string>& args, Config config);

}  // namespace cpa::cli
