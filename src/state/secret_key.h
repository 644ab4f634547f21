// The secret key (AUTH_SECRET_KEY): JWTs, code hashes and the outbox's seal
// all derive from it (auth/keys.h). Unless the configuration gives one, it
// lives in a file of the state dir, made once by `serve` or `migrate`.
#pragma once

#include <string>

#include "core/config.h"

namespace cpa::state {

enum class IfMissing { kCreate, kRefuse };

// Fills config->secret_key from AUTH_SECRET_KEY, else from secret_key_file,
// creating that file (mode 0600, 64 random hex characters) on first use, or,
// with kRefuse (the admin commands, check), failing with a reason naming its path.
bool ensure_secret_key(Config* config, std::string* error,
                       IfMissing if_missing = IfMissing::kCreate);

}  // namespace cpa::state
