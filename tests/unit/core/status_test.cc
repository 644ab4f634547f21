#include "core/status.h"

#include <gtest/gtest.h>

namespace cpa {

TEST(Status, ThrottledSaysSecondOrSeconds) {
  EXPECT_EQ(Status::Throttled(1).detail(), "Request was throttled. Expected available in 1 second.");
  EXPECT_EQ(Status::Throttled(42).detail(), "Request was throttled. Expected available in 42 seconds.");
  EXPECT_EQ(Status::Throttled(42).retry_after(), 42);
  EXPECT_EQ(Status::Throttled(0).retry_after(), 1);
}

TEST(Status, FieldErrorsKeepOrderAndGroupMessages) {
  FieldErrors e;
  e.add("password", "a");
  e.add("email", "b");
  e.add("password", "c");
  ASSERT_EQ(e.fields.size(), 2u);
  EXPECT_EQ(e.fields[0].first, "password");
  EXPECT_EQ(e.fields[0].second, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(e.fields[1].first, "email");
}

TEST(Status, StorageFailuresAreFlagged) {
  EXPECT_TRUE(Status::Unavailable("locked").is_storage_failure());
  EXPECT_EQ(Status::Unavailable("locked").http_status(), 503);
  EXPECT_TRUE(Status::Internal("x").is_storage_failure());
  EXPECT_FALSE(Status::NotFound().is_storage_failure());
}

}  // namespace cpa
