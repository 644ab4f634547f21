#include "core/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/strings.h"
#include "core/utf8.h"

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

std::string escape(std::string_view untrusted) {
  std::string out;
  out.reserve(untrusted.size());
  for (size_t i = 0; i < untrusted.size();) {
    const size_t start = i;
    const char32_t c = next_code_point(untrusted, &i);
    // next_code_point gives a byte outside well-formed UTF-8 as U+DC80..U+DCFF
    // (strict UTF-8 never encodes a surrogate itself).
    const bool ill_formed = c >= 0xDC80 && c <= 0xDCFF;
    if (ill_formed || c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\\') {
      for (char b : untrusted.substr(start, i - start)) {
        out.append("\\x").append(to_hex(std::string_view(&b, 1)));
      }
    } else {
      out.append(untrusted, start, i - start);
    }
  }
  return out;
}

void info(std::string_view message) { emit("info", message, false); }
void warn(std::string_view message) { emit("warn", message, true); }
void error(std::string_view message) { emit("error", message, true); }

}  // namespace cpa::log
