// The file backend: one .eml per message, made durable before it is reported
// sent (write a temp file, fsync, rename, fsync the directory), so a crash
// leaves either the whole message or none of it under its final name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mail/backend.h"

namespace cpa::mail {
namespace {

std::string errno_text(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + strerror(err);
}

// mkdir -p with mode 0750 for the directories it creates. Returns 0 or an errno.
int make_dirs(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    int err = make_dirs(dir.substr(0, slash));
    if (err != 0) return err;
  }
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return errno;
  return 0;
}

int write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

class FileBackend final : public Backend {
 public:
  explicit FileBackend(std::string dir) : dir_(std::move(dir)) {
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    if (dir_.empty()) dir_ = ".";
  }

  // One file name per message (<created_at>-<id>.eml): a second delivery
  // replaces the first. Several backends may write into one directory at once.
  Delivery deliver(const Message& message) override {
    if (int err = make_dirs(dir_); err != 0) return retry(errno_text("mkdir", dir_, err));

    std::string name = std::to_string(message.created_at) + "-" + std::to_string(message.id);
    std::string final_path = dir_ + "/" + name + ".eml";
    // Unique among processes (pid) and within one (counter).
    static std::atomic<uint64_t> counter{0};
    std::string tmp_path = dir_ + "/.tmp-" + name + "." + std::to_string(getpid()) + "." +
                           std::to_string(counter.fetch_add(1));

    int fd = open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return retry(errno_text("create", tmp_path, errno));
    std::string data = format_rfc5322(message);
    int err = write_all(fd, data);
    const char* step = "write";
    if (err == 0 && fsync(fd) != 0) {
      err = errno;
      step = "fsync";
    }
    if (close(fd) != 0 && err == 0) {
      err = errno;
      step = "close";
    }
    if (err == 0 && rename(tmp_path.c_str(), final_path.c_str()) != 0) {
      err = errno;
      step = "rename";
    }
    if (err != 0) {
      unlink(tmp_path.c_str());
      return retry(
          errno_text(step, step == std::string_view("rename") ? final_path : tmp_path, err));
    }
    // The rename is durable once the directory is.
    int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return retry(errno_text("open", dir_, errno));
    if (fsync(dfd) != 0) err = errno;
    close(dfd);
    if (err != 0) return retry(errno_text("fsync", dir_, err));
    return Delivery{};
  }

 private:
  static Delivery retry(std::string error) {
    return Delivery{Delivery::Outcome::kRetry, std::move(error)};
  }

  std::string dir_;
};

}  // namespace

std::unique_ptr<Backend> make_file_backend(std::string dir) {
  return std::make_unique<FileBackend>(std::move(dir));
}

}  // namespace cpa::mail
