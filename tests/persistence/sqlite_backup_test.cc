// BackupDatabase: a checked copy of a live database.
#include "persistence/sqlite_backup.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_backend.h"
#include "tests/persistence/backend_conformance.h"
#include "tests/persistence/rows.h"
#include "tests/testing/backends.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;

absl::Status Insert(Backend& backend, const DataSourceRow& source) {
  absl::StatusOr<std::unique_ptr<WriteTransaction>> txn = backend.BeginWrite();
  if (!txn.ok()) return txn.status();
  if (absl::Status status = (*txn)->InsertDataSource(source); !status.ok()) {
    return status;
  }
  return (*txn)->Commit();
}

class SqliteBackupTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<SqliteBackend> Open(const std::string& name) {
    SqliteBackend::Options options;
    options.path = dir_ + "/" + name;
    auto backend = SqliteBackend::Open(options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? std::move(*backend) : nullptr;
  }

  std::string dir_;
};

TEST_F(SqliteBackupTest, CopiesALiveDatabaseAndTheCopyServes) {
  std::unique_ptr<SqliteBackend> live = Open("live.db");
  ASSERT_NE(live, nullptr);
  const absl::Time now = absl::FromUnixSeconds(1735689600);
  const DataSourceRow source = SourceRow("before", now);
  ASSERT_OK(Insert(*live, source));
  // The live database stays open (and writable) during the backup.
  ASSERT_TRUE(BackupDatabase(dir_ + "/live.db", dir_ + "/copy.db").ok());
  ASSERT_OK(Insert(*live, SourceRow("after", now)));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/copy.db.tmp"));

  std::unique_ptr<SqliteBackend> copy = Open("copy.db");
  ASSERT_NE(copy, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReadTransaction> read,
                       copy->BeginRead());
  ASSERT_OK_AND_ASSIGN(const DataSourceRow copied,
                       read->GetDataSource(source.uuid));
  EXPECT_EQ(copied.name, "before");
  ASSERT_OK_AND_ASSIGN(const Page<DataSourceRow> page,
                       read->ListDataSources(PageRequest{10, ""}));
  EXPECT_EQ(page.items.size(), 1u);  // not "after"
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

TEST_F(SqliteBackupTest, TheCopyIsReadableByItsOwnerOnly) {
  ASSERT_NE(Open("live.db"), nullptr);
  const mode_t umask_before = ::umask(022);
  const absl::Status copied =
      BackupDatabase(dir_ + "/live.db", dir_ + "/copy.db");
  ::umask(umask_before);
  ASSERT_OK(copied);
  struct stat info;
  ASSERT_EQ(::stat((dir_ + "/copy.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
}

TEST_F(SqliteBackupTest, ASourceThatIsNotADatabaseIsNamedAndNothingIsLeft) {
  {
    std::ofstream junk(dir_ + "/junk.db");
    junk << std::string(8192, 'x');
  }
  const absl::Status copied =
      BackupDatabase(dir_ + "/junk.db", dir_ + "/copy.db");
  EXPECT_THAT(copied, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      std::string(copied.message()),
      ::testing::HasSubstr("cannot read database " + dir_ + "/junk.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/copy.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/copy.db.tmp"));
}

}  // namespace
}  // namespace recurrent::persistence
