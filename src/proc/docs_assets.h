// Swagger UI's files for `run`'s nginx (GET docs/, API.md §8): copied from
// AUTH_SWAGGER_UI_DIR (scripts/install-swagger-ui.sh fills it) into
// $AUTH_STATE_DIR/nginx/swagger-ui, which nginx's workers may read whoever
// they run as (proc/nginx_user); the source tree may sit where they cannot.
#pragma once

#include <string>

#include "core/config.h"

namespace cpa::proc {

// The directory nginx serves under /api/v1/auth/docs/assets/.
std::string docs_assets_dir(const Config& config);

// Replaces docs_assets_dir() with the regular files of config.swagger_ui_dir
// (mode 0644). No source, or one without the bundle, is a warning, not an
// error: the API works without its reference page. False (and *error) only
// when the copy fails.
bool copy_docs_assets(const Config& config, std::string* error);

}  // namespace cpa::proc
