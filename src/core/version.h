// The service's version: CMake's project version (CMakeLists.txt), compiled
// into version.cc alone so that a new version rebuilds one file.
#pragma once

#include <string_view>

namespace cpa {

std::string_view version();

}  // namespace cpa
