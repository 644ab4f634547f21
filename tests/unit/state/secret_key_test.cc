#include "state/secret_key.h"
#include "unit/scratch_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

namespace cpa::state {
namespace {

namespace fs = std::filesystem;

class EnsureSecretKey : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-secret-key"};  // first: removed last
  const fs::path dir_ = scratch_.path();

  // The configuration of a service whose state dir is `state_dir`.
  static Config config_in(const fs::path& state_dir, const std::string& secret_key = "") {
    Environment env = {{"AUTH_STATE_DIR", state_dir.string()}};
    if (!secret_key.empty()) env["AUTH_SECRET_KEY"] = secret_key;
    std::string error;
    std::optional<Config> c = load_config(env, {}, &error);
    EXPECT_TRUE(c.has_value()) << error;
    return c ? *c : Config();
  }
};

bool is_lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

TEST_F(EnsureSecretKey, CreatesA0600FileWith64HexCharacters) {
  Config c = config_in(dir_);
  ASSERT_EQ(c.secret_key_file, (dir_ / "secret.key").string());
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&c, &error)) << error;

  EXPECT_EQ(c.secret_key.size(), 64u);
  EXPECT_TRUE(is_lower_hex(c.secret_key)) << c.secret_key;
  struct stat st;
  ASSERT_EQ(stat(c.secret_key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(scratch_.read("secret.key"), c.secret_key);

  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "secret.key");
  }
  EXPECT_EQ(files, 1);
}

TEST_F(EnsureSecretKey, ReusesTheFileOnTheNextCall) {
  Config first = config_in(dir_);
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&first, &error)) << error;

  Config second = config_in(dir_);
  ASSERT_TRUE(ensure_secret_key(&second, &error)) << error;
  EXPECT_EQ(second.secret_key, first.secret_key);
}

TEST_F(EnsureSecretKey, TwoFreshCallsMakeDifferentKeys) {
  Config a = config_in(dir_ / "a");
  Config b = config_in(dir_ / "b");
  fs::create_directory(dir_ / "a");
  fs::create_directory(dir_ / "b");
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&a, &error)) << error;
  ASSERT_TRUE(ensure_secret_key(&b, &error)) << error;
  EXPECT_NE(a.secret_key, b.secret_key);
}

TEST_F(EnsureSecretKey, GivenKeyWritesNoFile) {
  std::string key = "an-explicit-key-of-enough-length";
  Config c = config_in(dir_, key);
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&c, &error)) << error;
  EXPECT_EQ(c.secret_key, key);
  EXPECT_FALSE(fs::exists(c.secret_key_file));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(EnsureSecretKey, ExistingFileIsTrimmed) {
  scratch_.write("secret.key", "  0123456789abcdef0123456789abcdef\n");
  Config c = config_in(dir_);
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&c, &error)) << error;
  EXPECT_EQ(c.secret_key, "0123456789abcdef0123456789abcdef");
}

TEST_F(EnsureSecretKey, UnusableFileIsAnError) {
  scratch_.write("secret.key", "short\n");
  Config c = config_in(dir_);
  std::string error;
  EXPECT_FALSE(ensure_secret_key(&c, &error));
  EXPECT_NE(error.find("AUTH_SECRET_KEY"), std::string::npos) << error;
  EXPECT_TRUE(c.secret_key.empty());
}

TEST_F(EnsureSecretKey, StaleTemporaryFileDoesNotBlockStartup) {
  scratch_.write("secret.key.tmp." + std::to_string(getpid()), "");
  Config c = config_in(dir_);
  std::string error;
  ASSERT_TRUE(ensure_secret_key(&c, &error)) << error;
  EXPECT_EQ(c.secret_key.size(), 64u);
}

TEST_F(EnsureSecretKey, MissingDirectoryIsAnError) {
  Config c = config_in(dir_ / "does" / "not" / "exist");
  std::string error;
  EXPECT_FALSE(ensure_secret_key(&c, &error));
  EXPECT_NE(error.find("AUTH_SECRET_KEY"), std::string::npos) << error;
}

TEST_F(EnsureSecretKey, RefusingMakesNoFileAndNamesThePath) {
  Config c = config_in(dir_);
  std::string error;
  EXPECT_FALSE(ensure_secret_key(&c, &error, IfMissing::kRefuse));
  EXPECT_NE(error.find("no secret key at " + c.secret_key_file), std::string::npos) << error;
  EXPECT_TRUE(fs::is_empty(dir_));
  // An existing key is read all the same.
  scratch_.write("secret.key", "0123456789abcdef0123456789abcdef\n");
  ASSERT_TRUE(ensure_secret_key(&c, &error, IfMissing::kRefuse)) << error;
  EXPECT_EQ(c.secret_key, "0123456789abcdef0123456789abcdef");
}

}  // namespace
}  // namespace cpa::state
