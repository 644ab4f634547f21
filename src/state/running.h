// Whether the service runs on a configuration's state, seen from outside:
// for a command that must not run beside it (migrate-data copies a database
// nothing may be writing).
#pragma once

#include <string>

#include "core/config.h"

namespace cpa::state {

// The master's pid file: written once it serves, removed when it stops.
std::string pid_file(const Config& config);

// What shows a service running on `config`'s state, as a phrase for a
// message ("pid 812 in /var/lib/cryptopay-auth/cryptopay-auth.pid is
// alive", "a process listens on /run/cryptopay-auth/fcgi.sock"); "" when
// nothing does. A pid file naming a live process counts even if that pid
// was reused after a crash: the phrase names the file to remove then.
std::string running_service(const Config& config);

}  // namespace cpa::state
