#include "proc/docs_assets.h"

#include <filesystem>
#include <system_error>

#include "core/log.h"

namespace cpa::proc {

namespace fs = std::filesystem;

std::string docs_assets_dir(const Config& config) { return config.state_dir + "/nginx/swagger-ui"; }

bool copy_docs_assets(const Config& config, std::string* error) {
  const fs::path from = config.swagger_ui_dir;
  const fs::path to = docs_assets_dir(config);
  std::error_code ec;
  fs::remove_all(to, ec);  // files of an older version must not linger
  if (!fs::exists(from / "swagger-ui-bundle.js", ec)) {
    log::warn("no Swagger UI in " + from.string() +
              " (AUTH_SWAGGER_UI_DIR): docs/ will not render; run scripts/install-swagger-ui.sh");
    return true;
  }
  const auto readable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec;
  if (!fs::create_directory(to, ec) && ec) {
    *error = "cannot create " + to.string() + ": " + ec.message();
    return false;
  }
  fs::permissions(to, readable, ec);
  for (const fs::directory_entry& entry : fs::directory_iterator(from, ec)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = to / entry.path().filename();
    if (!fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec)) {
      *error = "cannot copy " + entry.path().string() + " to " + target.string() + ": " + ec.message();
      return false;
    }
    fs::permissions(target, readable & ~(fs::perms::owner_exec | fs::perms::group_exec |
                                         fs::perms::others_exec), ec);
  }
  if (ec) {
    *error = "cannot read " + from.string() + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace cpa::proc
