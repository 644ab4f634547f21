// ScratchDir: a directory of a test's own, made when the test starts and
// removed, with everything in it, when it ends. On tmpfs when there is one:
// synchronous=FULL makes every commit an fsync, and the suite must stay fast
// on a busy disk.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace cpa::testing {

class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK | X_OK) == 0
                              ? fs::path("/dev/shm")
                              : fs::temp_directory_path();
    std::string tmpl = (root / (std::string(prefix) + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "cannot make a scratch directory " << tmpl;
      return;
    }
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  // Writes `text` to the file `name` in it; the file's path.
  std::string write(std::string_view name, std::string_view text) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  // The contents of the file `name` in it; empty when there is none.
  std::string read(std::string_view name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace cpa::testing
