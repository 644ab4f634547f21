#include "core/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"

namespace cpa::log {
namespace {

// Process-wide, set once at start (before any fork) and never changed after.
int g_file_fd = -1;
const char* g_role = "cpa";
pid_t g_pid = 0;  // set with the role, so that a line costs no getpid()
bool g_quiet = false;

void emit(const char* level, std::string_view message, bool force_stderr) {
  char when[24];
  SystemClock clock;
  std::string line;
  line.reserve(64 + message.size());
  line.append(iso8601_utc(clock.now(), when));
  line.append(" ").append(g_role).append("[").append(std::to_string(g_pid ? g_pid : getpid())).append("] ");
  line.append(level).append(" ");
  line.append(message);
  line.push_back('\n');
  if (!g_quiet || force_stderr) {
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
  }
  if (g_file_fd >= 0) {
    ssize_t ignored = write(g_file_fd, line.data(), line.size());
    (void)ignored;
  }
}

}  // namespace

bool open_file(const std::string& path, std::string* error) {
  if (path.empty()) return true;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    *error = "AUTH_LOG_FILE: cannot open " + path + ": " + strerror(errno);
    return false;
  }
  if (g_file_fd >= 0) close(g_file_fd);
  g_file_fd = fd;
  return true;
}

void set_role(const char* role) {
  g_role = role;
  g_pid = getpid();
}
void set_stderr_quiet(bool quiet) { g_quiet = quiet; }

void info(std::string_view message) { emit("info", message, false); }
void warn(std::string_view message) { emit("warn", message, true); }
void error(std::string_view message) { emit("error", message, true); }

}  // namespace cpa::log
