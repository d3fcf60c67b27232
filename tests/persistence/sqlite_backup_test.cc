// BackupDatabase: a checked copy of a live database.
#include "persistence/sqlite_backup.h"

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_storage.h"
#include "tests/persistence/storage_conformance.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::persistence::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;

class SqliteBackupTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<SqliteStorage> Open(const std::string& name) {
    SqliteStorage::Options options;
    options.path = dir_ + "/" + name;
    auto storage = SqliteStorage::Open(options);
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(*storage) : nullptr;
  }

  std::string dir_;
};

TEST_F(SqliteBackupTest, CopiesALiveDatabaseAndTheCopyServes) {
  std::unique_ptr<SqliteStorage> live = Open("live.db");
  ASSERT_NE(live, nullptr);
  const absl::Time now = absl::FromUnixSeconds(1735689600);
  auto source = live->CreateDataSource("before", "custom", now);
  ASSERT_TRUE(source.ok()) << source.status();
  // The live database stays open (and writable) during the backup.
  ASSERT_TRUE(BackupDatabase(dir_ + "/live.db", dir_ + "/copy.db").ok());
  ASSERT_TRUE(live->CreateDataSource("after", "custom", now).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/copy.db.tmp"));

  std::unique_ptr<SqliteStorage> copy = Open("copy.db");
  ASSERT_NE(copy, nullptr);
  auto copied = copy->GetDataSource(source->uuid);
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(copied->name, "before");
  auto page = copy->ListDataSources(PageRequest{10, ""});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);  // not "after"
}

TEST_F(SqliteBackupTest, RefusesBadPaths) {
  EXPECT_THAT(BackupDatabase(dir_ + "/missing.db", dir_ + "/copy.db"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_NE(Open("live.db"), nullptr);
  EXPECT_THAT(BackupDatabase(dir_ + "/live.db", dir_ + "/live.db"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BackupDatabase(dir_ + "/live.db", dir_ + "/no/such/dir/c.db"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace recurrent::persistence
