#include "proc/nginx_user.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace cpa::proc {
namespace {

std::optional<NginxUser> lookup(const char* name) {
  struct passwd* pw = getpwnam(name);
  if (pw == nullptr) return std::nullopt;
  struct group* gr = getgrgid(pw->pw_gid);
  if (gr == nullptr) return std::nullopt;
  return NginxUser{pw->pw_name, gr->gr_name, pw->pw_uid, pw->pw_gid};
}

bool give_group(const std::string& path, gid_t gid, mode_t mode, std::string* error) {
  if (chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 ||
      (mode != 0 && chmod(path.c_str(), mode) != 0)) {
    *error = "cannot give nginx's group access to " + path + ": " + strerror(errno);
    return false;
  }
  return true;
}

struct Access {
  std::string path;
  int mode;     // for access(2)
  bool wanted;  // whether the user must have it
};

// Runs the checks in a child that has become `user`, so that the kernel
// answers (ACLs and supplementary groups included). *failing: the index of
// the first check that fails, checks.size() when all pass. False when the
// child could not check at all.
bool check_as(const NginxUser& user, const std::vector<Access>& checks, size_t* failing,
              std::string* error) {
  constexpr int kCannotBecome = 255;
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (pid == 0) {
    if (initgroups(user.name.c_str(), user.gid) != 0 || setgid(user.gid) != 0 ||
        setuid(user.uid) != 0) {
      _exit(kCannotBecome);
    }
    for (size_t i = 0; i < checks.size(); ++i) {
      bool granted = access(checks[i].path.c_str(), checks[i].mode) == 0;
      if (granted != checks[i].wanted) _exit(static_cast<int>(i) + 1);
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) == kCannotBecome) {
    *error = "cannot check what " + user.name + " may reach: the check could not become that user";
    return false;
  }
  *failing = WEXITSTATUS(status) == 0 ? checks.size() : WEXITSTATUS(status) - 1;
  return true;
}

}  // namespace

std::optional<NginxUser> nginx_worker_user() {
  if (geteuid() != 0) return std::nullopt;
  if (std::optional<NginxUser> www = lookup("www-data")) return www;
  if (std::optional<NginxUser> nobody = lookup("nobody")) return nobody;
  // Not even nobody in the user database: the ids every Linux reserves.
  return NginxUser{"nobody", "nogroup", 65534, 65534};
}

std::string user_directive(const std::optional<NginxUser>& user) {
  if (!user) return "# (not root: nginx keeps this user)";
  return "user " + user->name + " " + user->group + ";";
}

bool grant_nginx_access(const Config& config, const NginxUser& user, std::string* error) {
  const std::string nginx_dir = config.state_dir + "/nginx";
  // 0710: the group may pass through to what it is let into below, but not
  // list the dir; what else is inside keeps its own mode.
  if (!give_group(config.state_dir, user.gid, 0710, error) ||
      !give_group(nginx_dir, user.gid, 0710, error)) {
    return false;
  }
  std::vector<Access> checks = {{nginx_dir, X_OK, true}};
  // A TCP port has no mode: anyone on the host may connect to it.
  for (const ListenAddress* socket : {&config.socket, &config.hash_socket}) {
    if (socket->tcp()) continue;
    if (!give_group(socket->path, user.gid, 0, error)) return false;
    checks.push_back({socket->path, W_OK, true});  // connect(2) needs write permission
  }
  checks.insert(checks.end(), {
      {config.db_path, R_OK, false},
      {config.secret_key_file, R_OK, false},
      {config.log_file, R_OK, false},
  });
  size_t failing = 0;
  if (!check_as(user, checks, &failing, error)) return false;
  if (failing == checks.size()) return true;
  const Access& a = checks[failing];
  if (a.wanted) {
    *error = "nginx's workers run as " + user.name + ", who cannot reach " + a.path +
             ": every directory above it must be searchable by that user (chmod o+x), or "
             "choose an AUTH_STATE_DIR that is";
  } else {
    *error = "nginx's workers run as " + user.name + ", who could read " + a.path +
             ": it must be the service's alone (chmod 600 " + a.path + ")";
  }
  return false;
}

}  // namespace cpa::proc
