#include "core/version.h"

#ifndef CPA_VERSION
#error "CPA_VERSION is set by CMakeLists.txt (the project's version)"
#endif

namespace cpa {

std::string_view version() { return CPA_VERSION; }

}  // namespace cpa
