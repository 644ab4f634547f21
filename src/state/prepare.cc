#include "state/prepare.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/log.h"
#include "state/files.h"
#include "state/secret_key.h"
#include "store/store.h"

namespace cpa::state {
namespace {

bool make_dir(const std::string& path, std::string* error) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return true;
  *error = "cannot create " + path + ": " + strerror(errno);
  return false;
}

// Rewrites every path under the state dir onto its real, absolute path.
void make_absolute(Config* config) {
  char resolved[PATH_MAX];
  if (!realpath(config->state_dir.c_str(), resolved)) return;  // missing: left as configured
  std::string old = config->state_dir;
  auto rebase = [&](std::string& path) {
    if (path.rfind(old + "/", 0) == 0) path = std::string(resolved) + path.substr(old.size());
  };
  config->state_dir = resolved;
  rebase(config->db_path);
  rebase(config->secret_key_file);
  rebase(config->mail_dir);
  for (ListenAddress* socket : {&config->socket, &config->hash_socket})
    if (!socket->tcp()) rebase(socket->path);
  rebase(config->log_file);
}

}  // namespace

bool prepare_state(Config* config, StateUse use, std::string* error) {
  if (use == StateUse::kCreate) {
    if (!make_dir(config->state_dir, error)) return false;
    struct stat st;
    // A dir made by hand (or by an older version, 0750) is left as it is, but
    // said. Search alone for a group (0710: `run` lets nginx's workers pass
    // through to the sockets, proc/nginx_user.h) lists nothing.
    if (stat(config->state_dir.c_str(), &st) == 0 && (st.st_mode & 067) != 0) {
      log::warn("AUTH_STATE_DIR: " + config->state_dir + " is mode " + mode_text(st.st_mode) +
                ": other users may look inside; chmod 0700 it");
    }
  }
  make_absolute(config);
  if (use == StateUse::kExisting) {
    struct stat st;
    if (!config->postgresql() && stat(config->db_path.c_str(), &st) != 0) {
      *error = "no database at " + config->db_path +
               " (serve and migrate create it; or is this the wrong configuration?)";
      return false;
    }
    // Read (the outbox needs it), never made here.
    if (!ensure_secret_key(config, error, IfMissing::kRefuse)) return false;
  } else {
    if (!ensure_secret_key(config, error)) return false;
    if (!config->postgresql() && !make_dir(directory_of(config->db_path), error)) return false;
    if (config->mail_backend == MailBackend::kFile && !make_dir(config->mail_dir, error))
      return false;
  }
  Status st = store::Store::migrate(config->database(), config->db_busy_timeout_ms);
  if (!st.ok()) {
    *error = std::string(config->postgresql() ? "AUTH_DATABASE_URL: " : "AUTH_DB_PATH: ") +
             config->database_for_display() + ": " + st.reason();
    return false;
  }
  return true;
}

}  // namespace cpa::state
