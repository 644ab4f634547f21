#include "state/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace cpa::state {
namespace {

TEST(ModeText, PermissionBitsAsChmodTakesThem) {
  EXPECT_EQ(mode_text(0700), "0700");
  EXPECT_EQ(mode_text(0640), "0640");
  // The file type bits of st_mode are not permissions.
  EXPECT_EQ(mode_text(S_IFDIR | 0710), "0710");
  EXPECT_EQ(mode_text(S_IFREG | 04755), "4755");
}

TEST(DirectoryOf, TheDirectoryAFileIsIn) {
  EXPECT_EQ(directory_of("/var/lib/cryptopay-auth/auth.db"), "/var/lib/cryptopay-auth");
  EXPECT_EQ(directory_of("var/auth.db"), "var");
  EXPECT_EQ(directory_of("auth.db"), ".");
  EXPECT_EQ(directory_of("/auth.db"), "/");
}

}  // namespace
}  // namespace cpa::state
