#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "mail/backend.h"
#include "mail/message.h"
#include "unit/scratch_dir.h"

namespace cpa::mail {
namespace {

namespace fs = std::filesystem;

class FileBackendTest : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-file-backend"};  // first: removed last

  void SetUp() override {
    root_ = scratch_.path();
  }
  static Message sample(int64_t id) {
    Message m;
    m.id = id;
    m.from = "no-reply@cryptopay.example";
    m.to = "alice@example.com";
    m.subject = "Your PIN reset code";
    m.body = "Your code:\n\n654321\n";
    m.created_at = 1795000000;
    return m;
  }

  static std::vector<std::string> names(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path root_;
};

TEST_F(FileBackendTest, WritesOneEmlWithTheFormattedMessage) {
  Config config;
  config.mail_backend = MailBackend::kFile;
  config.mail_dir = root_.string();
  std::unique_ptr<Backend> backend = make_backend(config);
  Message m = sample(9);
  Delivery d = backend->deliver(m);
  EXPECT_EQ(d.outcome, Delivery::Outcome::kSent) << d.error;
  EXPECT_EQ(names(root_), std::vector<std::string>{"1795000000-9.eml"});
  EXPECT_EQ(slurp(root_ / "1795000000-9.eml"), format_rfc5322(m));
}

TEST_F(FileBackendTest, CreatesTheDirectoryAndLeavesNoTempFiles) {
  fs::path dir = root_ / "state" / "mail";
  std::unique_ptr<Backend> backend = make_file_backend(dir.string());
  for (int64_t id = 1; id <= 3; ++id) {
    Delivery d = backend->deliver(sample(id));
    EXPECT_EQ(d.outcome, Delivery::Outcome::kSent) << d.error;
  }
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0750 & ~mask);
  EXPECT_EQ(names(dir),
            (std::vector<std::string>{"1795000000-1.eml", "1795000000-2.eml", "1795000000-3.eml"}));
}

TEST_F(FileBackendTest, RedeliveryRewritesTheSameFile) {
  std::unique_ptr<Backend> backend = make_file_backend(root_.string());
  Message m = sample(5);
  ASSERT_EQ(backend->deliver(m).outcome, Delivery::Outcome::kSent);
  ASSERT_EQ(backend->deliver(m).outcome, Delivery::Outcome::kSent);
  EXPECT_EQ(names(root_), std::vector<std::string>{"1795000000-5.eml"});
}

TEST_F(FileBackendTest, UnwritableDirectoryIsRetriedWithTheReason) {
  // A regular file where the directory should be: fails even for root.
  fs::path blocker = root_ / "not-a-dir";
  std::ofstream(blocker) << "x";
  std::unique_ptr<Backend> backend = make_file_backend((blocker / "mail").string());
  Delivery d = backend->deliver(sample(1));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kRetry);
  EXPECT_NE(d.error.find("Not a directory"), std::string::npos) << d.error;
  EXPECT_EQ(d.error.find("654321"), std::string::npos) << "the body leaked into the error";
}

TEST_F(FileBackendTest, UnwritableDirectoryIsRetried) {
  // A regular file where the mail directory should be: fails for root too,
  // unlike permission bits.
  fs::path blocker = root_ / "not-a-dir";
  { std::ofstream(blocker) << "x"; }
  std::unique_ptr<Backend> backend = make_file_backend((blocker / "mail").string());
  Delivery d = backend->deliver(sample(1));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kRetry);
  EXPECT_NE(d.error.find("Not a directory"), std::string::npos) << d.error;
}

}  // namespace
}  // namespace cpa::mail
