#include "cli/outcome.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpa::cli {
namespace {

using Messages = std::vector<std::string>;

// The exit statuses README ("Admin commands") promises: 0, 1 on failure, 2
// on a usage error.
TEST(Outcome, EachKindHasItsExitStatus) {
  EXPECT_EQ(Outcome().exit_status(), 0);
  EXPECT_EQ(Outcome::Usage("missing ID|EMAIL").exit_status(), 2);
  EXPECT_EQ(Outcome::Refused("no user with id 9").exit_status(), 1);
  EXPECT_EQ(Outcome::Invalid({"too short", "too common"}).exit_status(), 1);
  EXPECT_EQ(Outcome(Status::Unavailable("database is locked")).exit_status(), 1);
  EXPECT_EQ(Outcome(Status::Internal("disk I/O error")).exit_status(), 1);
}

TEST(Outcome, KeepsItsMessages) {
  EXPECT_TRUE(Outcome().ok());
  EXPECT_EQ(Outcome().messages(), Messages{});
  Outcome usage = Outcome::Usage("missing ID|EMAIL");
  EXPECT_EQ(usage.kind(), Outcome::Kind::kUsage);
  EXPECT_EQ(usage.messages(), Messages{"missing ID|EMAIL"});
  Outcome refused = Outcome::Refused("no user with id 9");
  EXPECT_EQ(refused.kind(), Outcome::Kind::kRefused);
  EXPECT_EQ(refused.messages(), Messages{"no user with id 9"});
  Outcome invalid = Outcome::Invalid({"too short", "too common"});
  EXPECT_EQ(invalid.kind(), Outcome::Kind::kInvalid);
  EXPECT_EQ(invalid.messages(), (Messages{"too short", "too common"}));
}

TEST(Outcome, StoreFailuresBecomeStorageOutcomes) {
  EXPECT_TRUE(Outcome(Status()).ok());

  Outcome busy(Status::Unavailable("database is locked"));
  EXPECT_EQ(busy.kind(), Outcome::Kind::kUnavailable);
  EXPECT_TRUE(busy.is_storage_failure());
  EXPECT_EQ(busy.messages(), Messages{"the database is busy or unavailable (database is locked)"});

  Outcome broken(Status::Internal("disk I/O error"));
  EXPECT_EQ(broken.kind(), Outcome::Kind::kInternal);
  EXPECT_TRUE(broken.is_storage_failure());
  EXPECT_EQ(broken.messages(), Messages{"internal error: disk I/O error"});

  EXPECT_FALSE(Outcome::Refused("no").is_storage_failure());
  EXPECT_FALSE(Outcome::Usage("no").is_storage_failure());
}

// The store answers in neither; were an API error to reach a command, it
// must fail loudly, not pass for a refusal.
TEST(Outcome, AnApiErrorIsAnInternalError) {
  Outcome conflict(Status::Detail(409, "taken"));
  EXPECT_EQ(conflict.kind(), Outcome::Kind::kInternal);
  EXPECT_EQ(conflict.exit_status(), 1);
  EXPECT_EQ(conflict.messages(), Messages{"internal error: unexpected 409 taken"});
}

// A store call's Status passes up through a command's Produced<T>.
Produced<int> through(const Status& status) {
  CPA_RETURN_IF_ERROR(status);
  return 7;
}

TEST(Produced, TakesAStoreFailureAsAnOutcome) {
  Produced<int> value = through(Status());
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  Produced<int> failed = through(Status::Unavailable("database is locked"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().kind(), Outcome::Kind::kUnavailable);
}

}  // namespace
}  // namespace cpa::cli
