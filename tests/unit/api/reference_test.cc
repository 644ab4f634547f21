// GET schema/ and GET docs/ in-process: the compiled-in document and page,
// with their media types, served whatever the database's state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "unit/api/api_fixture.h"
#include "api/routes.h"

namespace cpa::api::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(ApiTest, SchemaIsTheDocumentOfTheTree) {
  Answer a = send("GET", "schema/");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.response.content_type, "application/vnd.oai.openapi+json");
  EXPECT_EQ(a.body, read_file(std::string(CPA_SOURCE_DIR) + "/docs/openapi.json"));
}

TEST_F(ApiTest, DocsIsTheSwaggerUiPage) {
  Answer a = send("GET", "docs");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.response.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(a.body, read_file(std::string(CPA_SOURCE_DIR) + "/docs/ui/index.html"));
  EXPECT_NE(a.body.find("/api/v1/auth/docs/assets/swagger-ui-bundle.js"), std::string::npos);
}

TEST_F(ApiTest, OtherAnswersStayJson) {
  EXPECT_EQ(send("GET", "health/").response.content_type, "application/json");
  EXPECT_EQ(send("POST", "schema/", "{}").response.content_type, "application/json");
}

// The database taken away by removing SQLite's file: the SQLite entries
// alone run it (PostgreSQL out of reach is tests/nodes' restart).
class SqliteApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(cpa::testing::postgresql_server(), nullptr)
        << "a SQLite test: run it without CPA_TEST_POSTGRESQL";
    ApiTest::SetUp();
  }
};

TEST_F(SqliteApiTest, TheReferenceNeedsNoDatabase) {
  ASSERT_EQ(unlink((scratch_ / "auth.db").c_str()), 0);
  EXPECT_EQ(send("GET", "schema/").status, 200);
  EXPECT_EQ(send("GET", "docs/").status, 200);
  Answer health = send("GET", "health/");
  EXPECT_EQ(health.status, 503);
  // The kind of trouble, not the path: SQLite's words after the colon stay in the log.
  EXPECT_EQ(health.body, R"({"status":"unavailable","database":"cannot open database"})");
  EXPECT_EQ(post("resend-code/", R"({"email":"a@example.com","purpose":"email_verification"})").status,
            503);
}

TEST(RouteListing, EveryRouteOnceWithItsLock) {
  std::string listing = route_listing();
  size_t lines = 0;
  for (char c : listing) lines += c == '\n';
  EXPECT_EQ(lines, routes().size());
  EXPECT_NE(listing.find("GET\tusers/<id>/\tuser\n"), std::string::npos);
  EXPECT_NE(listing.find("POST\ttoken/obtain/\tpublic\n"), std::string::npos);
  EXPECT_NE(listing.find("GET\tschema/\tpublic\n"), std::string::npos);
}

}  // namespace
}  // namespace cpa::api::testing
