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
#include "tests/persistence/raw_db.h"
#include "tests/persistence/storage_conformance.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::persistence::testing::MakeTempDir;
using ::recurrent::persistence::testing::RawDb;
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
  RawDb raw(path_);
  EXPECT_THAT(
      raw.QueryPlan("SELECT id FROM customers c WHERE"
                    " c.id > 0 AND c.email = 'x' ORDER BY c.id LIMIT 5"),
      HasSubstr("customers_by_email"));
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM customers c WHERE"
                            " c.id > 0 AND c.status = 1 ORDER BY c.id LIMIT 5"),
              HasSubstr("customers_by_status"));
  EXPECT_THAT(raw.QueryPlan("SELECT customer_id FROM"
                            " customer_external_ids WHERE external_id = 'x'"),
              HasSubstr("customer_external_ids_by_external_id"));
}

TEST_F(SqliteStorageTest, MigratesAVersion1DatabaseKeepingItsData) {
  {
    // A database as release 1 left it: schema v1 and a customer.
    RawDb raw(path_);
    raw.Exec(sqlite::Migrations()[0].sql);
    raw.Exec("PRAGMA user_version = 1");
    raw.Exec(
        "INSERT INTO data_sources (uuid, name, system, created_at)"
        " VALUES ('ds_old', 'legacy', 'custom', 1000000);"
        "INSERT INTO settings_versions (data_source_id, version,"
        " past_due_mode, auto_churn_after_days, applied_at, saved_at)"
        " VALUES (1, 1, 1, 0, 1000000, 1000000),"
        " (1, 2, 2, 30, 2000000, 2000000);"
        "INSERT INTO customers (uuid, name, email, status, created_at,"
        " updated_at) VALUES ('cus_old', 'Old', 'o@x.io', 1, 1000000,"
        " 1000000);"
        "INSERT INTO customer_external_ids VALUES (1, 'c-1', 1, 0);"
        "INSERT INTO customer_tags VALUES (1, 'vip');");
  }
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  ASSERT_OK_AND_ASSIGN(SourceSettings settings, storage->GetSettings("ds_old"));
  EXPECT_EQ(settings.version, 2);
  EXPECT_EQ(settings.past_due_handling.mode, PastDueMode::kAutoChurn);
  EXPECT_EQ(settings.past_due_handling.auto_churn_after_days, 30);
  ASSERT_OK_AND_ASSIGN(Customer customer, storage->GetCustomer("cus_old"));
  EXPECT_EQ(customer.name, "Old");
  EXPECT_EQ(customer.status, CustomerStatus::kLead);
  EXPECT_THAT(customer.tags, ::testing::ElementsAre("vip"));
  EXPECT_THAT(customer.derived_tags, ::testing::IsEmpty());
  EXPECT_EQ(customer.external_id, "c-1");
  // And the new tables work for it.
  Invoice invoice;
  invoice.external_id = "INV-1";
  invoice.currency = "EUR";
  invoice.date = absl::FromUnixSeconds(1'735'689'600);  // 2025-01-01
  LineItem item;
  item.external_id = "LI-1";
  item.subscription_external_id = "SUB-1";
  item.service_period_start = invoice.date;
  item.service_period_end = invoice.date + absl::Hours(24 * 31);
  item.amount_in_cents = 100;
  invoice.line_items.push_back(item);
  ASSERT_OK(storage->ImportInvoices("cus_old", {invoice},
                                    invoice.date + absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(customer, storage->GetCustomer("cus_old"));
  EXPECT_EQ(customer.status, CustomerStatus::kActive);
  storage.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
}

TEST_F(SqliteStorageTest, StoresEnumsAsStableCodes) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  ASSERT_OK_AND_ASSIGN(DataSource source,
                       storage->CreateDataSource("s", "custom", absl::Now()));
  ASSERT_OK(storage->UpdateSettings(
      source.uuid,
      [](const SourceSettings&)
          -> absl::StatusOr<std::optional<Storage::NewSettings>> {
        Storage::NewSettings next;
        next.past_due_handling = {PastDueMode::kAutoChurn, 7};
        next.applied_at = absl::FromUnixSeconds(0);
        return next;
      },
      /*dry_run=*/false, absl::Now()));
  Customer customer;
  customer.data_source_uuid = source.uuid;
  customer.external_id = "x";
  ASSERT_OK_AND_ASSIGN(customer,
                       storage->CreateCustomer(customer, absl::Now()));
  storage.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("SELECT group_concat(past_due_mode) FROM"
                      " (SELECT past_due_mode FROM settings_versions"
                      " ORDER BY version)"),
            "1,2");
  EXPECT_EQ(raw.Value("SELECT status FROM customers"), "1");  // LEAD
  // A code this build does not know is an error, not a guess.
  raw.Exec("UPDATE customers SET status = 9");
  ASSERT_OK_AND_ASSIGN(storage, Open(path_));
  EXPECT_THAT(storage->GetCustomer(customer.uuid),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("status")));
}

TEST_F(SqliteStorageTest, DeletingASourceLeavesNoOrphansInTheNewTables) {
  ASSERT_OK_AND_ASSIGN(auto storage, Open(path_));
  const absl::Time jan1 = absl::FromUnixSeconds(1'735'689'600);
  ASSERT_OK_AND_ASSIGN(DataSource kept,
                       storage->CreateDataSource("k", "custom", jan1));
  ASSERT_OK_AND_ASSIGN(DataSource doomed,
                       storage->CreateDataSource("d", "custom", jan1));
  Customer a;
  a.data_source_uuid = kept.uuid;
  a.external_id = "a";
  ASSERT_OK_AND_ASSIGN(a, storage->CreateCustomer(a, jan1));
  Customer b;
  b.data_source_uuid = doomed.uuid;
  b.external_id = "b";
  ASSERT_OK_AND_ASSIGN(b, storage->CreateCustomer(b, jan1));
  Customer only;
  only.data_source_uuid = doomed.uuid;
  only.external_id = "only";
  ASSERT_OK_AND_ASSIGN(only, storage->CreateCustomer(only, jan1));
  ASSERT_OK(storage->MergeCustomers(b.uuid, a.uuid, jan1));
  auto invoice = [&](const std::string& id, const std::string& source) {
    Invoice invoice;
    invoice.external_id = id;
    invoice.data_source_uuid = source;
    invoice.currency = "EUR";
    invoice.date = jan1;
    invoice.due_date = jan1 + absl::Hours(24);
    LineItem item;
    item.external_id = id + "-li";
    item.subscription_external_id = id + "-sub";
    item.service_period_start = jan1;
    item.service_period_end = jan1 + absl::Hours(24 * 31);
    item.amount_in_cents = 100;
    invoice.line_items.push_back(item);
    Transaction payment;
    payment.external_id = id + "-tr";
    payment.date = jan1;
    payment.result = engine::TransactionResult::kFailed;
    invoice.transactions.push_back(payment);
    return invoice;
  };
  ASSERT_OK(storage->ImportInvoices(
      a.uuid, {invoice("K", kept.uuid), invoice("D", doomed.uuid)},
      jan1 + absl::Hours(48)));
  ASSERT_OK(storage->ImportInvoices(only.uuid, {invoice("O", doomed.uuid)},
                                    jan1 + absl::Hours(48)));
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot,
                       storage->GetCustomerSnapshot(only.uuid));
  ASSERT_OK(storage->CancelSubscription(snapshot.subscriptions.at(0).uuid,
                                        jan1 + absl::Hours(50),
                                        jan1 + absl::Hours(50)));
  ASSERT_OK(storage->DeleteDataSource(doomed.uuid, jan1 + absl::Hours(60)));
  storage.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("SELECT group_concat(external_id) FROM invoices"), "K");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM line_items"), "1");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM transactions"), "1");
  EXPECT_EQ(raw.Value("SELECT group_concat(external_id) FROM subscriptions"),
            "K-sub");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM cancellations"), "0");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM subscription_events WHERE"
                      " subscription_id NOT IN (SELECT id FROM subscriptions)"
                      " OR customer_id NOT IN (SELECT id FROM customers)"),
            "0");
  EXPECT_NE(raw.Value("SELECT COUNT(*) FROM subscription_events"), "0");
  raw.Exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM pragma_foreign_key_check"), "0");
}

TEST_F(SqliteStorageTest, InvoiceAndEventQueriesUseIndexes) {
  ASSERT_OK(Open(path_).status());
  RawDb raw(path_);
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM invoices WHERE customer_id = 1"
                            " AND id > 0 ORDER BY id LIMIT 5"),
              HasSubstr("invoices_by_customer"));
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM invoices WHERE data_source_id = 1"
                            " AND id > 0 ORDER BY id LIMIT 5"),
              HasSubstr("invoices_by_source"));
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM subscription_events e WHERE"
                            " e.customer_id = 1 AND e.occurred_at <= 9 AND"
                            " (e.occurred_at, e.id) > (0, 0)"
                            " ORDER BY e.occurred_at, e.id LIMIT 5"),
              AllOf(HasSubstr("subscription_events_by_customer"),
                    Not(HasSubstr("TEMP B-TREE"))));
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM subscription_events e WHERE"
                            " e.data_source_id = 1 AND e.occurred_at <= 9 AND"
                            " (e.occurred_at, e.id) > (0, 0)"
                            " ORDER BY e.occurred_at, e.id LIMIT 5"),
              AllOf(HasSubstr("subscription_events_by_source"),
                    Not(HasSubstr("TEMP B-TREE"))));
  EXPECT_THAT(raw.QueryPlan("SELECT id FROM customers WHERE"
                            " next_transition_at <= 5"
                            " ORDER BY next_transition_at LIMIT 5"),
              HasSubstr("customers_by_next_transition"));
  EXPECT_THAT(raw.QueryPlan("SELECT 1 FROM line_items li WHERE"
                            " li.data_source_id = 1 AND"
                            " li.subscription_external_id = 'x'"),
              HasSubstr("line_items_by_subscription"));
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
