// The state dir and what it holds (README "Files and their modes"): the
// database, the secret key, the mail dir. Both the service (proc/master.h)
// and the admin commands (cli/) prepare it, so it sits below them. `serve`, `run` and `migrate` create
// what is missing; the admin commands find it there or refuse, naming the
// path: a command run with the wrong configuration must not start an empty
// database and a new key beside the real ones.
//
// Everything is created private to the service's user (directories 0700,
// files 0600): main() narrows the umask by 077 before anything is created.
#pragma once

#include <string>

#include "core/config.h"

namespace cpa::state {

enum class StateUse {
  kCreate,    // serve, run, migrate: create the dirs, the key, the schema
  kExisting,  // admin commands: the database and the key must exist
};

// Makes the configured paths absolute (the children and nginx must not
// depend on the working directory), then prepares the state for `use` and
// brings the schema up to date. False with a one-line *error otherwise.
bool prepare_state(Config* config, StateUse use, std::string* error);

}  // namespace cpa::state
