#include "state/secret_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/random.h"
#include "core/strings.h"

namespace cpa::state {

bool ensure_secret_key(Config* config, std::string* error, IfMissing if_missing) {
  if (!config->secret_key.empty()) return true;
  const std::string& path = config->secret_key_file;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && if_missing == IfMissing::kRefuse) {
    *error = "no secret key at " + path +
             " (serve and migrate create it; or is this the wrong configuration?)";
    return false;
  }
  if (fd < 0 && errno == ENOENT) {
    SystemRng rng;
    std::string key = rng.hex(32);
    // Written aside and published with link(), which fails if another process
    // got there first: two processes starting at once never use two keys. A
    // temp file a crash left behind (same pid after a restart) is replaced.
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    unlink(tmp.c_str());
    int wfd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (wfd < 0) {
      *error = "AUTH_SECRET_KEY: cannot create " + tmp + ": " + strerror(errno);
      return false;
    }
    bool written = write(wfd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                   fsync(wfd) == 0;
    close(wfd);
    if (!written || link(tmp.c_str(), path.c_str()) != 0) {
      int saved = errno;
      unlink(tmp.c_str());
      if (saved != EEXIST) {
        *error = "AUTH_SECRET_KEY: cannot write " + path + ": " + strerror(saved);
        return false;
      }
    } else {
      unlink(tmp.c_str());
    }
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    *error = "AUTH_SECRET_KEY: cannot read " + path + ": " + strerror(errno);
    return false;
  }
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  std::string key = n > 0 ? std::string(trim_whitespace(std::string_view(buf, static_cast<size_t>(n)))) : "";
  if (key.size() < 16) {
    *error = "AUTH_SECRET_KEY: " + path + " holds no usable key (at least 16 characters)";
    return false;
  }
  config->secret_key = key;
  return true;
}

}  // namespace cpa::state
