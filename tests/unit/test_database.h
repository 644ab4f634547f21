// TestDatabase: where a test's Store lives. A SQLite file in the test's
// scratch dir; or, when CPA_TEST_POSTGRESQL names a PostgreSQL server (the
// `pg` CTest label runs the suite so, through tests/pg/with-postgresql), a
// schema of the test's own on that server, dropped when the test ends. The
// same tests thus show the same behaviour on both engines.
//
// RawDb: a connection of its own to the same database, for what the Store
// cannot show (rows counted directly, a second writer, committed data only).
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/pg_db.h"

namespace cpa::testing {

inline const char* postgresql_server() {
  const char* url = getenv("CPA_TEST_POSTGRESQL");
  return url && *url ? url : nullptr;
}

class RawDb {
 public:
  explicit RawDb(const std::string& location) {
    if (location.rfind("postgresql://", 0) == 0) {
      pg_ = PQconnectdb(location.c_str());
      if (PQstatus(pg_) != CONNECTION_OK) ADD_FAILURE() << PQerrorMessage(pg_);
    } else if (sqlite3_open_v2(location.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) !=
               SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << location;
    }
  }
  ~RawDb() {
    if (pg_) PQfinish(pg_);
    sqlite3_close_v2(db_);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // 0 when it ran (SQLITE_OK), else the failure's code.
  int exec(const char* sql) {
    if (!pg_) return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    PGresult* r = PQexec(pg_, sql);
    ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : 1;
  }
  // Every row of `sql`, its columns joined by '|' (NULL as "NULL").
  std::vector<std::string> rows(const char* sql) {
    std::vector<std::string> out;
    if (pg_) {
      PGresult* r = PQexec(pg_, sql);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) ADD_FAILURE() << PQerrorMessage(pg_);
      for (int i = 0; i < PQntuples(r); ++i) {
        std::string row;
        for (int c = 0; c < PQnfields(r); ++c)
          row += (c ? "|" : "") + std::string(PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c));
        out.push_back(row);
      }
      PQclear(r);
      return out;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      out.push_back(row);
    }
    sqlite3_finalize(s);
    return out;
  }
  // Takes the write lock every Store write takes (SQLite's; PostgreSQL's
  // advisory lock, store/pg_db.cc) in a transaction that ROLLBACK ends.
  int hold_write_lock() {
    const std::string take_lock =
        "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(store::kWriterLockKey) + ")";
    return exec(pg_ ? take_lock.c_str() : "BEGIN IMMEDIATE");
  }
  // The schema version the database records (PRAGMA user_version; table schema_version).
  int64_t schema_version() {
    return scalar(pg_ ? "SELECT max(version) FROM schema_version" : "PRAGMA user_version");
  }
  int set_schema_version(int version) {
    std::string sql = pg_ ? "UPDATE schema_version SET version = " + std::to_string(version)
                          : "PRAGMA user_version = " + std::to_string(version);
    return exec(sql.c_str());
  }
  bool postgresql() const { return pg_ != nullptr; }

  // The first column of the first row as an integer; -1 when there is none.
  int64_t scalar(const char* sql) {
    std::vector<std::string> r = rows(sql);
    if (r.empty()) return -1;
    return strtoll(r[0].c_str(), nullptr, 10);
  }

 private:
  sqlite3* db_ = nullptr;
  PGconn* pg_ = nullptr;
};

class TestDatabase {
 public:
  explicit TestDatabase(const std::filesystem::path& dir) {
    const char* server = postgresql_server();
    if (!server) {
      location_ = (dir / "auth.db").string();
      return;
    }
    static std::atomic<int> counter{0};
    schema_ = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    RawDb admin(server);
    std::string create = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_;
    EXPECT_EQ(admin.exec(create.c_str()), 0) << "cannot create schema " << schema_;
    // Every connection to location_ works inside the test's schema.
    location_ = std::string(server) + (std::string(server).find('?') == std::string::npos ? "?" : "&") +
                "options=-csearch_path%3D" + schema_;
  }
  ~TestDatabase() {
    if (schema_.empty()) return;
    RawDb admin(postgresql_server());
    std::string drop = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE";
    admin.exec(drop.c_str());
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& location() const { return location_; }
  bool postgresql() const { return !schema_.empty(); }

 private:
  std::string location_;
  std::string schema_;
};

}  // namespace cpa::testing
