// `check [--smtp]`: what `nginx -t` is to nginx. Reads the configuration as
// `serve` would and looks at everything serve needs: the state dir, the
// secret key, the database (there, readable, writable, at this binary's
// schema version), where the two sockets go, the log file, the mail
// backend; with --smtp it also goes to the relay (connect, EHLO, AUTH). One
// line per check on stdout; exit 0 when all passed, 1 when any failed.
//
// It changes nothing: no file is created, the database is opened read-only
// and never migrated. So it may run beside the service, as its user.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/cli.h"
#include "mail/smtp_probe.h"
#include "state/files.h"
#include "state/secret_key.h"
#include "state/listener.h"
#include "store/store.h"

namespace cpa::cli {

namespace {

using state::directory_of;
using state::mode_text;

constexpr size_t kSocketPathMax = 107;  // sockaddr_un.sun_path, less its NUL

class Report {
 public:
  void ok(std::string_view what, const std::string& detail) { line(what, "ok", detail); }
  void fail(std::string_view what, const std::string& detail) {
    ++problems_;
    line(what, "FAIL", detail);
  }
  int finish() const {
    if (problems_ == 0) {
      printf("check: ok\n");
      return 0;
    }
    printf("check: %d problem%s\n", problems_, problems_ == 1 ? "" : "s");
    return 1;
  }

 private:
  static void line(std::string_view what, const char* verdict, const std::string& detail) {
    printf("%-12.*s %-4s %s\n", static_cast<int>(what.size()), what.data(), verdict,
           printable(detail).c_str());
  }
  int problems_ = 0;
};

// A file that must be the service's alone: no access for group or others.
bool private_file(Report& report, std::string_view what, const std::string& path,
                  const struct stat& st) {
  if ((st.st_mode & 077) == 0) return true;
  report.fail(what, path + " is mode " + mode_text(st.st_mode) + ": chmod 600 it");
  return false;
}

std::string source_text(const ConfigFile& file) {
  switch (file.source) {
    case ConfigFile::Source::kOption: return file.path + " (--config), the environment over it";
    case ConfigFile::Source::kVariable:
      return file.path + " ($" + kConfigFileVariable + "), the environment over it";
    case ConfigFile::Source::kDefault: return file.path + " (the default), the environment over it";
    case ConfigFile::Source::kNone: break;
  }
  return "the environment only (no env file)";
}

void check_state_dir(Report& report, const Config& config) {
  struct stat st;
  if (stat(config.state_dir.c_str(), &st) != 0) {
    report.fail("state dir", config.state_dir + " does not exist (serve creates it)");
  } else if (!S_ISDIR(st.st_mode)) {
    report.fail("state dir", config.state_dir + " is not a directory");
  } else if ((st.st_mode & 007) != 0) {
    report.fail("state dir", config.state_dir + " is mode " + mode_text(st.st_mode) +
                                 ": other users may enter it; chmod 0700 it");
  } else if (access(config.state_dir.c_str(), W_OK | X_OK) != 0) {
    report.fail("state dir", config.state_dir + " is not writable by this user");
  } else {
    report.ok("state dir", config.state_dir + " (" + mode_text(st.st_mode) + ")");
  }
}

void check_secret_key(Report& report, const Config& config) {
  if (!config.secret_key.empty()) {
    report.ok("secret key", "AUTH_SECRET_KEY");
    return;
  }
  Config copy = config;
  std::string error;
  struct stat st;
  if (!state::ensure_secret_key(&copy, &error, state::IfMissing::kRefuse)) {
    report.fail("secret key", error);
  } else if (stat(config.secret_key_file.c_str(), &st) == 0 &&
             private_file(report, "secret key", config.secret_key_file, st)) {
    report.ok("secret key", config.secret_key_file + " (" + mode_text(st.st_mode) + ")");
  }
}

// The database's schema version against this binary's. `shown`: the
// location as a message may print it (no password).
void check_schema_version(Report& report, const std::string& location, const std::string& shown,
                          int busy_timeout_ms) {
  Result<int64_t> version = store::Store::schema_version_at(location, busy_timeout_ms);
  const int current = store::Store::schema_version();
  if (!version.ok()) {
    report.fail("database", shown + ": " + version.status().reason());
  } else if (*version < current) {
    report.fail("database", shown + " is at schema version " + std::to_string(*version) +
                                ", this binary's is " + std::to_string(current) +
                                ": serve (or migrate) upgrades it");
  } else if (*version > current) {
    report.fail("database", shown + " is at schema version " + std::to_string(*version) +
                                ", newer than this binary's " + std::to_string(current) +
                                ": this binary is older than the database (no downgrades)");
  } else {
    report.ok("database", shown + " (schema version " + std::to_string(*version) + ")");
  }
}

void check_database(Report& report, const Config& config) {
  if (config.postgresql()) {
    // Reachable with these credentials, and at this binary's schema.
    check_schema_version(report, config.database(), config.database_for_display(),
                         config.db_busy_timeout_ms);
    return;
  }
  const std::string& path = config.db_path;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    report.fail("database", "no database at " + path + " (serve and migrate create it)");
    return;
  }
  if (!private_file(report, "database", path, st)) return;
  // SQLite writes the file and creates its -wal and -shm beside it.
  if (access(path.c_str(), R_OK | W_OK) != 0 ||
      access(directory_of(path).c_str(), W_OK | X_OK) != 0) {
    report.fail("database", path + " or its directory is not writable by this user");
    return;
  }
  check_schema_version(report, path, path, config.db_busy_timeout_ms);
}

// A TCP address: free for this user to bind (an address of this host, a
// port nobody holds), or in use by a service (this one, running). Bound
// first: a connect to an address of another host could reach that host.
void check_tcp_socket(Report& report, std::string_view what, const ListenAddress& address) {
  std::string why;
  int fd = state::bind_tcp(address, &why);
  if (fd >= 0) {
    close(fd);
    report.ok(what, address.text() + " (TCP: keep it on a private network)");
  } else if (why == strerror(EADDRINUSE) && state::someone_listens(address)) {
    report.ok(what, address.text() + " (a service is listening on it)");
  } else {
    report.fail(what, "cannot listen on " + address.text() + ": " + why);
  }
}

void check_socket(Report& report, std::string_view what, const ListenAddress& address) {
  if (address.tcp()) {
    check_tcp_socket(report, what, address);
    return;
  }
  const std::string& path = address.path;
  const std::string dir = directory_of(path);
  struct stat st;
  if (path.size() > kSocketPathMax) {
    report.fail(what, path + " is longer than a unix socket path may be (" +
                          std::to_string(kSocketPathMax) + " bytes)");
  } else if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    report.fail(what, path + ": the directory " + dir + " does not exist");
  } else if (access(dir.c_str(), W_OK | X_OK) != 0) {
    report.fail(what, path + ": the directory " + dir + " is not writable by this user");
  } else if (lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    report.fail(what, path + " exists and is not a socket");
  } else {
    report.ok(what,
              path + (state::someone_listens(address) ? " (a service is listening on it)" : ""));
  }
}

void check_log(Report& report, const Config& config) {
  const std::string& path = config.log_file;
  struct stat st;
  if (path.empty()) {
    report.ok("log", "stderr only (AUTH_LOG_FILE=-)");
  } else if (stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 007) != 0) {
      report.fail("log", path + " is mode " + mode_text(st.st_mode) + ": chmod 600 it");
    } else if (access(path.c_str(), W_OK) != 0) {
      report.fail("log", path + " is not writable by this user");
    } else {
      report.ok("log", path);
    }
  } else if (access(directory_of(path).c_str(), W_OK | X_OK) != 0) {
    report.fail("log", path + ": its directory is missing or not writable by this user");
  } else {
    report.ok("log", path + " (created at start)");
  }
}

void check_mail(Report& report, const Config& config, bool probe) {
  if (config.mail_backend == MailBackend::kFile) {
    const std::string& dir = config.mail_dir;
    struct stat st;
    bool exists = stat(dir.c_str(), &st) == 0;
    if (exists ? access(dir.c_str(), W_OK | X_OK) != 0
               : access(directory_of(dir).c_str(), W_OK | X_OK) != 0) {
      report.fail("mail", "file backend: " + dir + " is not writable by this user");
    } else {
      report.ok("mail", "file backend, " + dir);
    }
    return;
  }
  if (!probe) {
    report.ok("mail", "smtp " + config.smtp_url + " (not contacted: --smtp connects)");
    return;
  }
  Status reached = mail::probe_smtp_relay(config);
  if (reached.ok()) {
    report.ok("mail", "smtp " + config.smtp_url + " answered (EHLO" +
                          (config.smtp_user.empty() ? "" : ", AUTH") + ")");
  } else {
    report.fail("mail", "smtp " + config.smtp_url + ": " + reached.reason());
  }
}

}  // namespace

int check(const Setup& setup, const Args& args) {
  Report report;
  if (!setup.config) {
    // Every problem on its line; nothing else can be looked at without them.
    std::string_view rest = setup.error;
    while (!rest.empty()) {
      size_t end = rest.find('\n');
      report.fail("config", std::string(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    return report.finish();
  }
  const Config& config = *setup.config;
  report.ok("config", source_text(setup.file));
  check_state_dir(report, config);
  check_secret_key(report, config);
  check_database(report, config);
  check_socket(report, "socket", config.socket);
  check_socket(report, "hash socket", config.hash_socket);
  check_log(report, config);
  check_mail(report, config, args.has("--smtp"));
  return report.finish();
}

}  // namespace cpa::cli
