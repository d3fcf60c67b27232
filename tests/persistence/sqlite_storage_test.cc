// SqliteStorage: the conformance suite on SQLite, plus what is specific to
// the SQLite backend (schema migrations, opening unusable paths, locking,
// error mapping).
#include "persistence/sqlite_storage.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_schema.h"
#include "persistence/sqlite_status.h"
#include "tests/persistence/storage_conformance.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::persistence::testing::MakeTempDir;
using ::recurrent::persistence::testing::StorageBackend;
using ::recurrent::persistence::testing::StorageBackendName;
using ::recurrent::persistence::testing::StorageConformanceTest;
using ::recurrent::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteIn(const std::string& dir) {
  SqliteStorage::Options options;
  options.path = absl::StrCat(dir, "/recurrent.db");
  options.reader_pool_size = 2;
  auto storage = SqliteStorage::Open(options);
  if (!storage.ok()) return storage.status();
  return std::unique_ptr<Storage>(std::move(storage).value());
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StorageConformanceTest,
                         ::testing::Values(StorageBackend{"Sqlite",
                                                          &OpenSqliteIn}),
                         StorageBackendName);

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
  std::string Value(const std::string& sql) {
    std::vector<std::string> values = Column(sql);
    return values.empty() ? "<none>" : values.front();
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/recurrent.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  absl::StatusOr<std::unique_ptr<SqliteStorage>> Open(const std::string& path) {
    SqliteStorage::Options options;
    options.path = path;
    options.busy_timeout = absl::Milliseconds(50);
    return SqliteStorage::Open(options);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteStorageTest, MigratesAnEmptyDatabaseToTheLatestVersion) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  storage.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(raw.Value("PRAGMA journal_mode"), "wal");
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_master WHERE type = 'table'"),
              IsSupersetOf({"data_sources", "settings_versions", "customers",
                            "customer_external_ids", "customer_tags"}));
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_master WHERE type = 'index'"),
              IsSupersetOf({"customers_by_email", "customers_by_status",
                            "customers_by_next_transition",
                            "customer_external_ids_by_customer"}));
  EXPECT_THAT(raw.Column("SELECT name FROM pragma_table_info('customers')"),
              IsSupersetOf({"next_transition_at", "status"}));
}

TEST_F(SqliteStorageTest, MigrationsAreNumberedInOrder) {
  int expected = 1;
  for (const sqlite::Migration& migration : sqlite::Migrations()) {
    EXPECT_EQ(migration.version, expected++) << migration.description;
  }
  EXPECT_EQ(sqlite::LatestSchemaVersion(), expected - 1);
}

TEST_F(SqliteStorageTest, ReopeningIsANoOp) {
  std::string uuid;
  {
    ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
    ASSERT_OK_AND_ASSIGN(DataSource source,
                         storage->CreateDataSource("s", "custom", absl::Now()));
    uuid = source.uuid;
  }
  std::string schema_before;
  {
    RawDb raw(path_);
    schema_before = absl::StrJoin(
        raw.Column("SELECT sql FROM sqlite_master ORDER BY name"), "\n");
  }
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  EXPECT_OK(storage->GetDataSource(uuid));
  storage.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(
      absl::StrJoin(raw.Column("SELECT sql FROM sqlite_master ORDER BY name"),
                    "\n"),
      schema_before);
}

TEST_F(SqliteStorageTest, RefusesADatabaseFromTheFuture) {
  { ASSERT_OK(Open(path_).status()); }
  {
    RawDb raw(path_);
    raw.Exec(absl::StrCat("PRAGMA user_version = ",
                          sqlite::LatestSchemaVersion() + 1));
  }
  EXPECT_THAT(Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(path_), HasSubstr("newer"))));
  // And left it alone.
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion() + 1));
}

TEST_F(SqliteStorageTest, CreatesMissingFolders) {
  const std::string nested = dir_ + "/a/b/c/recurrent.db";
  ASSERT_OK(Open(nested).status());
  EXPECT_TRUE(std::filesystem::is_regular_file(nested));
}

TEST_F(SqliteStorageTest, RejectsADirectory) {
  EXPECT_THAT(Open(dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir_), HasSubstr("directory"))));
}

TEST_F(SqliteStorageTest, RejectsAFileThatIsNotADatabase) {
  {
    std::ofstream file(path_);
    for (int i = 0; i < 200; ++i) file << "definitely not a database\n";
  }
  EXPECT_THAT(Open(path_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr(path_)));
}

TEST_F(SqliteStorageTest, RejectsAFolderThatIsAFile) {
  const std::string file = dir_ + "/plain";
  { std::ofstream(file) << "x"; }
  EXPECT_THAT(Open(file + "/recurrent.db"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(file)));
}

TEST_F(SqliteStorageTest, RejectsAnUnwritableFolder) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  const std::string locked = dir_ + "/locked";
  std::filesystem::create_directory(locked);
  std::filesystem::permissions(locked, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_exec);
  EXPECT_THAT(
      Open(locked + "/recurrent.db"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(locked)));
  std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
}

TEST_F(SqliteStorageTest, RejectsAFileThatCannotBeCreated) {
  // /proc refuses new files, even to root.
  const std::string path = "/proc/recurrent-persistence-test.db";
  EXPECT_THAT(Open(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
}

TEST_F(SqliteStorageTest, RejectsBadOptions) {
  EXPECT_THAT(Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
  SqliteStorage::Options options;
  options.path = path_;
  options.reader_pool_size = 0;
  EXPECT_THAT(SqliteStorage::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SqliteStorageTest, WriteLockHeldElsewhereIsUnavailableReadsStillWork) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  ASSERT_OK_AND_ASSIGN(DataSource source,
                       storage->CreateDataSource("s", "custom", absl::Now()));
  RawDb other(path_);
  other.Exec("BEGIN IMMEDIATE");
  const absl::StatusOr<DataSource> blocked =
      storage->CreateDataSource("t", "custom", absl::Now());
  EXPECT_THAT(blocked, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(blocked.status().message(),
              AllOf(Not(HasSubstr("INSERT")), Not(HasSubstr("BEGIN"))));
  EXPECT_OK(storage->GetDataSource(source.uuid));  // WAL: readers not blocked
  other.Exec("COMMIT");
  EXPECT_OK(storage->CreateDataSource("t", "custom", absl::Now()));
}

TEST_F(SqliteStorageTest, ForeignKeysAreEnforced) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  ASSERT_OK_AND_ASSIGN(DataSource source,
                       storage->CreateDataSource("s", "custom", absl::Now()));
  Customer customer;
  customer.data_source_uuid = source.uuid;
  customer.external_id = "x";
  ASSERT_OK(storage->CreateCustomer(customer, absl::Now()));
  ASSERT_OK(storage->DeleteDataSource(source.uuid, absl::Now()));
  storage.reset();
  RawDb raw(path_);
  // Cascades ran: no orphans anywhere.
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM settings_versions"), "0");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM customer_external_ids"), "0");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM customers"), "0");
  raw.Exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM pragma_foreign_key_check"), "0");
}

TEST_F(SqliteStorageTest, CustomerQueriesUseIndexes) {
  ASSERT_OK(Open(path_).status());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto plan = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK)
        << sql;
    std::string text;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      absl::StrAppend(
          &text, reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)),
          "; ");
    }
    sqlite3_finalize(stmt);
    return text;
  };
  EXPECT_THAT(plan("EXPLAIN QUERY PLAN SELECT id FROM customers c WHERE"
                   " c.id > 0 AND c.email = 'x' ORDER BY c.id LIMIT 5"),
              HasSubstr("customers_by_email"));
  EXPECT_THAT(plan("EXPLAIN QUERY PLAN SELECT id FROM customers c WHERE"
                   " c.id > 0 AND c.status = 1 ORDER BY c.id LIMIT 5"),
              HasSubstr("customers_by_status"));
  EXPECT_THAT(plan("EXPLAIN QUERY PLAN SELECT customer_id FROM"
                   " customer_external_ids WHERE external_id = 'x'"),
              HasSubstr("customer_external_ids_by_external_id"));
  sqlite3_close(db);
}

TEST(SqliteStatusTest, MapsResultCodes) {
  using sqlite::SqliteErrorToStatus;
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_BUSY, "step"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_BUSY_SNAPSHOT, "step"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_LOCKED, "step"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_FULL, "step"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "database or disk is full"));
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_READONLY, "step"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  const absl::Status unique =
      SqliteErrorToStatus(nullptr, SQLITE_CONSTRAINT_UNIQUE, "step");
  EXPECT_THAT(unique, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(sqlite::IsUniqueViolation(unique));
  EXPECT_FALSE(sqlite::IsUniqueViolation(absl::AlreadyExistsError("x")));
  EXPECT_THAT(SqliteErrorToStatus(nullptr, SQLITE_CORRUPT, "step"),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(
      SqliteErrorToStatus(nullptr, SQLITE_CONSTRAINT_FOREIGNKEY, "step"),
      StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace recurrent::persistence
