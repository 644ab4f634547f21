// Facts about the service's files as an admin reads them: a mode as chmod
// writes it, the directory a path is in.
#pragma once

#include <sys/types.h>

#include <string>

namespace cpa::state {

// "0700": the permission bits as chmod takes them.
std::string mode_text(mode_t mode);

// The directory `path` names a file in: "." for a bare name, "/" at the root.
std::string directory_of(const std::string& path);

}  // namespace cpa::state
