// RawDb: a raw SQLite connection for tests that inspect or tamper with a
// database file behind the storage's back.
#ifndef RECURRENT_TESTS_PERSISTENCE_RAW_DB_H_
#define RECURRENT_TESTS_PERSISTENCE_RAW_DB_H_

#include <sqlite3.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace recurrent::persistence::testing {

// A raw SQLite connection for inspecting or tampering with a database file.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> values;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      values.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(stmt);
    return values;
  }
  // The details of EXPLAIN QUERY PLAN `sql`, joined.
  std::string QueryPlan(const std::string& sql) {
    std::string text;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1,
                                 &stmt, nullptr),
              SQLITE_OK)
        << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      absl::StrAppend(
          &text, reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)),
          "; ");
    }
    sqlite3_finalize(stmt);
    return text;
  }
  std::string Value(const std::string& sql) {
    std::vector<std::string> values = Column(sql);
    return values.empty() ? "<none>" : values.front();
  }
  // Every row of `sql`, all columns, one line per row.
  std::string Rows(const std::string& sql) {
    std::string out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        absl::StrAppend(&out, c > 0 ? "|" : "",
                        text ? reinterpret_cast<const char*>(text) : "NULL");
      }
      out += "\n";
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace recurrent::persistence::testing

#endif  // RECURRENT_TESTS_PERSISTENCE_RAW_DB_H_
