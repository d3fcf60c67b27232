// SqliteBackend: the Backend conformance suite on SQLite, plus what is
// specific to the SQLite backend (schema migrations, opening unusable
// paths, locking, foreign keys, stable codes, index use, error mapping).
#include "persistence/sqlite_backend.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/customer_facts_blob.h"
#include "persistence/mrr_sums.h"
#include "persistence/sqlite_schema.h"
#include "persistence/sqlite_source_scan.h"
#include "persistence/sqlite_status.h"
#include "tests/persistence/raw_db.h"
#include "tests/persistence/rows.h"
#include "tests/persistence/sync_fault_vfs.h"
#include "tests/testing/backends.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::persistence::testing::RawDb;
using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using ::testing::Not;

// Rows made through the interface, one committed write each.
Customer CustomerRow(const std::string& source_uuid,
                     const std::string& external_id, absl::Time at) {
  Customer customer;
  customer.uuid = absl::StrCat("cus_", external_id);
  customer.data_source_uuid = source_uuid;
  customer.external_id = external_id;
  customer.created_at = at;
  customer.updated_at = at;
  return customer;
}

// Runs `fn(txn)` in a write transaction and commits.
template <typename Fn>
absl::Status Write(Backend& backend, Fn fn) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn,
                             backend.BeginWrite());
  RECURRENT_RETURN_IF_ERROR(fn(*txn));
  return txn->Commit();
}

// Runs `fn(txn)` in a read transaction.
template <typename Fn>
auto Read(Backend& backend, Fn fn)
    -> decltype(fn(std::declval<ReadTransaction&>())) {
  absl::StatusOr<std::unique_ptr<ReadTransaction>> txn = backend.BeginRead();
  if (!txn.ok()) return txn.status();
  return fn(**txn);
}

class SqliteBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/recurrent.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(const std::string& path,
                                                      bool read_only = false) {
    SqliteBackend::Options options;
    options.path = path;
    options.busy_timeout = absl::Milliseconds(50);
    options.read_only = read_only;
    return SqliteBackend::Open(options);
  }

  // A database as release `version` left it: migrations 1..version run
  // directly, then `rows`.
  void CreateOldDatabase(int version, const std::string& rows) {
    RawDb raw(path_);
    for (const sqlite::Migration& migration : sqlite::Migrations()) {
      if (migration.version > version) break;
      raw.Exec(migration.sql);
    }
    raw.Exec(absl::StrCat("PRAGMA user_version = ", version));
    raw.Exec(rows);
  }

  std::string dir_;
  std::string path_;
};

// ---- Schema and migrations --------------------------------------------------

TEST_F(SqliteBackendTest, MigratesAnEmptyDatabaseToTheLatestVersion) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(raw.Value("PRAGMA journal_mode"), "wal");
  EXPECT_THAT(
      raw.Column("SELECT name FROM sqlite_master WHERE type = 'table'"),
      IsSupersetOf({"data_sources", "settings_versions", "customers",
                    "customer_external_ids", "customer_tags", "change_log"}));
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_master WHERE type = 'index'"),
              IsSupersetOf({"customers_by_email", "customers_by_status",
                            "customers_by_next_transition",
                            "customer_external_ids_by_customer"}));
  EXPECT_THAT(raw.Column("SELECT name FROM pragma_table_info('customers')"),
              IsSupersetOf({"next_transition_at", "status"}));
  const std::vector<std::string> settings_columns =
      raw.Column("SELECT name FROM pragma_table_info('settings_versions')");
  EXPECT_THAT(settings_columns, IsSupersetOf({"setting_values", "saved_by"}));
  EXPECT_THAT(settings_columns,
              AllOf(Not(::testing::Contains("past_due_mode")),
                    Not(::testing::Contains("auto_churn_after_days"))));
}

// A scan connection opened for a request that cannot be opened (here: no
// file descriptor left) is UNAVAILABLE, retryable, and tells the client
// neither the file's path nor SQLite's text.
TEST_F(SqliteBackendTest,
       AScanConnectionThatCannotOpenIsUnavailableWithoutThePath) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers' runtime needs file descriptors of its own";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "the sanitizers' runtime needs file descriptors of its own";
#endif
#endif
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteBackend> backend, Open(path_));
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // The lowest free descriptor is at most this; with the limit there, the
  // next open fails.
  const int probe = open("/dev/null", O_RDONLY);
  ASSERT_GE(probe, 0);
  close(probe);
  struct rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  absl::StatusOr<std::unique_ptr<ReadTransaction>> scan =
      backend->BeginRead(Backend::ReadKind::kScan);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(common::ReasonOf(scan.status()).value_or(""),
            common::reason::kDatabaseUnavailable);
  EXPECT_EQ(scan.status().message().find(dir_), absl::string_view::npos)
      << scan.status();
  // And the next one opens.
  EXPECT_OK(backend->BeginRead(Backend::ReadKind::kScan));
}

TEST_F(SqliteBackendTest, MigrationsAreNumberedInOrder) {
  int expected = 1;
  for (const sqlite::Migration& migration : sqlite::Migrations()) {
    EXPECT_EQ(migration.version, expected++) << migration.description;
  }
  EXPECT_EQ(sqlite::LatestSchemaVersion(), expected - 1);
}

TEST_F(SqliteBackendTest, ReopeningIsANoOp) {
  const DataSourceRow source = SourceRow("s", absl::Now());
  {
    ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
    ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) {
      return txn.InsertDataSource(source);
    }));
  }
  std::string schema_before;
  {
    RawDb raw(path_);
    schema_before = absl::StrJoin(
        raw.Column("SELECT sql FROM sqlite_master ORDER BY name"), "\n");
  }
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  EXPECT_OK(Read(*backend, [&](ReadTransaction& txn) {
    return txn.GetDataSource(source.uuid);
  }));
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(
      absl::StrJoin(raw.Column("SELECT sql FROM sqlite_master ORDER BY name"),
                    "\n"),
      schema_before);
}

TEST_F(SqliteBackendTest, RefusesADatabaseFromTheFuture) {
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

TEST_F(SqliteBackendTest, MigratesAVersion1DatabaseKeepingItsData) {
  CreateOldDatabase(
      1,
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
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  ASSERT_OK_AND_ASSIGN(const DataSourceRow source,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.GetDataSource("ds_old");
                       }));
  EXPECT_EQ(source.settings.version, 2);
  EXPECT_EQ(source.settings.values,
            "past_due_handling.mode=auto_churn\n"
            "past_due_handling.auto_churn_after_days=30\n");
  ASSERT_OK_AND_ASSIGN(Customer customer,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.GetCustomer("cus_old");
                       }));
  EXPECT_EQ(customer.name, "Old");
  EXPECT_EQ(customer.status, CustomerStatus::kLead);
  EXPECT_THAT(customer.tags, ElementsAre("vip"));
  EXPECT_THAT(customer.derived_tags, IsEmpty());
  EXPECT_EQ(customer.external_id, "c-1");
  // And the later tables work for it.
  Invoice invoice;
  invoice.uuid = "inv_1";
  invoice.external_id = "INV-1";
  invoice.data_source_uuid = "ds_old";
  invoice.currency = "EUR";
  invoice.date = absl::FromUnixSeconds(1'735'689'600);  // 2025-01-01
  LineItem item;
  item.uuid = "li_1";
  item.external_id = "LI-1";
  item.subscription_external_id = "SUB-1";
  item.service_period_start = invoice.date;
  item.service_period_end = invoice.date + absl::Hours(24 * 31);
  item.amount_in_cents = 100;
  invoice.line_items.push_back(item);
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_RETURN_IF_ERROR(txn.InsertSubscriptions(
        {SubscriptionRef{"sub_1", "cus_old", "ds_old", "SUB-1"}}));
    RECURRENT_RETURN_IF_ERROR(txn.InsertInvoices("cus_old", {invoice}));
    ChangeRow row;
    row.kind = ChangeKind::kCustomerChanged;
    row.data_source_uuid = "ds_old";
    row.customer_uuid = "cus_old";
    return txn.AppendChanges({row});
  }));
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.LoadCustomerState("cus_old", true);
                       }));
  ASSERT_EQ(state.facts.invoices.size(), 1u);
  EXPECT_EQ(state.facts.invoices[0].external_id, "INV-1");
  ASSERT_EQ(state.settings.size(), 1u);
  EXPECT_EQ(state.settings[0].version, 2);
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"),
            absl::StrCat(sqlite::LatestSchemaVersion()));
}

TEST_F(SqliteBackendTest, MigratesVersion4SettingsIntoOneRecord) {
  // Release 4's rows: KEEP, AUTO_CHURN after 14 and 90 days, with impacts
  // and who saved them.
  CreateOldDatabase(
      4,
      "INSERT INTO data_sources (uuid, name, system, created_at) VALUES"
      " ('ds_a', 'a', 'custom', 1000000), ('ds_b', 'b', 'custom', 1000000);"
      "INSERT INTO settings_versions (data_source_id, version,"
      " past_due_mode, auto_churn_after_days, applied_at, saved_at,"
      " customers_reprocessed, auto_churns_reversed, auto_churns_applied,"
      " customers_status_changed, saved_by) VALUES"
      " (1, 1, 1, 0, 1000000, 1000000, 0, 0, 0, 0, ''),"
      " (1, 2, 2, 14, 2000000, 3000000, 7, 1, 2, 3, 'ops'),"
      " (2, 1, 2, 90, 4000000, 5000000, 0, 0, 0, 0, '');");
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  // Exactly core::EncodeSettingsValues of each version ("key=value" lines,
  // each ending in '\n', which DecodeSettingsValues reads back).
  const std::string keep = "past_due_handling.mode=keep\n";
  const auto churn = [](int days) {
    return absl::StrCat(
        "past_due_handling.mode=auto_churn\n"
        "past_due_handling.auto_churn_after_days=",
        days, "\n");
  };
  ASSERT_OK_AND_ASSIGN(const std::vector<SettingsRow> a,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.ListSettingsVersions("ds_a");
                       }));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].values, keep);
  EXPECT_EQ(a[1].values, churn(14));
  // The rest of each row is kept.
  EXPECT_EQ(a[1].version, 2);
  EXPECT_EQ(a[1].applied_at, absl::FromUnixMicros(2000000));
  EXPECT_EQ(a[1].saved_at, absl::FromUnixMicros(3000000));
  EXPECT_EQ(a[1].saved_by, "ops");
  EXPECT_EQ(a[1].impact.customers_reprocessed, 7);
  EXPECT_EQ(a[1].impact.auto_churns_reversed, 1);
  EXPECT_EQ(a[1].impact.auto_churns_applied, 2);
  EXPECT_EQ(a[1].impact.customers_status_changed, 3);
  ASSERT_OK_AND_ASSIGN(const std::vector<SettingsRow> current,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.CurrentSettings();
                       }));
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].values, churn(14));
  EXPECT_EQ(current[1].values, churn(90));
  // Every line is key=value.
  for (const SettingsRow& row : current) {
    for (absl::string_view line :
         absl::StrSplit(row.values, '\n', absl::SkipEmpty())) {
      EXPECT_THAT(
          std::string(line),
          ::testing::MatchesRegex("past_due_handling\\.[a-z_]+=[a-z_0-9]+"));
    }
  }
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA integrity_check"), "ok");
  raw.Exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM pragma_foreign_key_check"), "0");
  // Still WITHOUT ROWID, keyed by (source, version), cascading with its
  // source.
  EXPECT_THAT(
      raw.Value("SELECT sql FROM sqlite_master"
                " WHERE name = 'settings_versions'"),
      AllOf(HasSubstr("WITHOUT ROWID"),
            HasSubstr("PRIMARY KEY (data_source_id, version)"),
            HasSubstr("ON DELETE CASCADE"), Not(HasSubstr("past_due_mode"))));
  raw.Exec("DELETE FROM data_sources WHERE uuid = 'ds_a'");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM settings_versions"), "1");
}

// Migration 6 gives every stored event (and every event row of the change
// log) the status its type usually leads to; the next recompute of the
// customer replaces an event whose exact status_after differs.
TEST_F(SqliteBackendTest, MigratesVersion5EventsWithTheirTypesStatusAfter) {
  // One event of every type (codes 1..6), a published and a retracted event
  // row and a status row in the log.
  CreateOldDatabase(
      5,
      "INSERT INTO data_sources (uuid, name, system, created_at) VALUES"
      " ('ds_a', 'a', 'custom', 1000000);"
      "INSERT INTO customers (uuid, status, created_at, updated_at) VALUES"
      " ('cus_a', 2, 1000000, 1000000);"
      "INSERT INTO subscriptions (uuid, customer_id, data_source_id,"
      " external_id) VALUES ('sub_a', 1, 1, 'A');"
      "INSERT INTO subscription_events (uuid, subscription_id, customer_id,"
      " data_source_id, type, occurred_at) VALUES"
      " ('evt_1', 1, 1, 1, 1, 1000001), ('evt_2', 1, 1, 1, 2, 1000002),"
      " ('evt_3', 1, 1, 1, 3, 1000003), ('evt_4', 1, 1, 1, 4, 1000004),"
      " ('evt_5', 1, 1, 1, 5, 1000005), ('evt_6', 1, 1, 1, 6, 1000006);"
      "INSERT INTO change_log (committed_at, kind, data_source_uuid,"
      " customer_uuid, customer_sources, event_uuid, event_type,"
      " subscription_uuid, subscription_external_id, occurred_at, status,"
      " previous_status) VALUES"
      " (2000000, 1, 'ds_a', 'cus_a', '', 'evt_2', 2, 'sub_a', 'A', 1000002,"
      "  NULL, NULL),"
      " (2000000, 2, 'ds_a', 'cus_a', '', 'evt_6', 6, 'sub_a', 'A', 1000006,"
      "  NULL, NULL),"
      " (2000000, 3, 'ds_a', 'cus_a', 'ds_a', NULL, NULL, NULL, NULL, NULL,"
      "  2, 1);");
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  ASSERT_OK_AND_ASSIGN(
      const Page<SubscriptionEvent> events,
      Read(*backend, [](ReadTransaction& txn) {
        return txn.ListEvents(
            EventFilter{"cus_a", "", absl::InfiniteFuture()}, PageRequest{});
      }));
  using engine::SubscriptionStatus;
  std::vector<SubscriptionStatus> status_after;
  for (const SubscriptionEvent& e : events.items) {
    status_after.push_back(e.status_after);
  }
  EXPECT_THAT(status_after,
              ElementsAre(SubscriptionStatus::kActive,     // STARTED
                          SubscriptionStatus::kPastDue,    // PAST_DUE
                          SubscriptionStatus::kActive,     // RECOVERED
                          SubscriptionStatus::kCancelled,  // CANCELLED
                          SubscriptionStatus::kCancelled,  // AUTO_CHURNED
                          SubscriptionStatus::kActive));   // REACTIVATED
  ASSERT_OK_AND_ASSIGN(
      const std::vector<ChangeRow> changes,
      Read(*backend,
           [](ReadTransaction& txn) { return txn.ReadChanges(0, 10); }));
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].event.status_after, SubscriptionStatus::kPastDue);
  EXPECT_EQ(changes[1].event.status_after, SubscriptionStatus::kActive);
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Rows("SELECT event_status_after FROM change_log"
                     " ORDER BY sequence"),
            "3\n2\nNULL\n");
  EXPECT_EQ(raw.Value("PRAGMA integrity_check"), "ok");
}

// Version 7 adds each customer's facts blob: opening a version-6 database
// builds every customer's (in chunks of 1,000), equal to what its rows read.
TEST_F(SqliteBackendTest, MigratesVersion6CustomersToFactsBlobs) {
  CreateOldDatabase(
      6,
      "INSERT INTO data_sources (uuid, name, system, created_at) VALUES"
      " ('ds_a', 'a', 'custom', 1000000);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
      " WHERE i < 1001)"
      " INSERT INTO customers (uuid, status, created_at, updated_at)"
      " SELECT 'cus_' || i, 1, 1000000, 1000000 FROM n;"
      "INSERT INTO customer_external_ids (data_source_id, external_id,"
      " customer_id, position) SELECT 1, 'c' || id, id, 0 FROM customers;"
      "INSERT INTO customer_tags (customer_id, tag) VALUES (1, 'vip');"
      "INSERT INTO subscriptions (uuid, customer_id, data_source_id,"
      " external_id) VALUES ('sub_a', 1, 1, 'A');"
      "INSERT INTO cancellations (subscription_id, cancelled_at, recorded_at)"
      " VALUES (1, 3000000, 3000000);"
      "INSERT INTO invoices (uuid, customer_id, data_source_id, external_id,"
      " date, due_date, currency) VALUES"
      " ('inv_a', 1, 1, 'I', 1000000, 2000000, 'EUR');"
      "INSERT INTO line_items (uuid, invoice_id, data_source_id, external_id,"
      " position, type, subscription_external_id, plan_external_id,"
      " service_period_start, service_period_end, amount_in_cents, quantity,"
      " discount_amount_in_cents, tax_amount_in_cents, prorated, description)"
      " VALUES ('li_a', 1, 1, 'L', 0, 1, 'A', 'p', 1000000, 2000000, 2900, 1,"
      " 0, 19, 0, '');"
      "INSERT INTO transactions (uuid, invoice_id, data_source_id,"
      " external_id, type, result, date, amount_in_cents) VALUES"
      " ('tr_a', 1, 1, 'T', 1, 1, 2000000, NULL);");
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.Value("SELECT count(*) FROM customer_facts"), "1001");
    EXPECT_EQ(raw.Value("SELECT count(*) FROM customer_facts_stale"), "0");
  }
  for (const std::string uuid : {"cus_1", "cus_1001"}) {
    SetFactsBlobReads(FactsBlobReads::kRequire);
    absl::StatusOr<CustomerState> blob = Read(
        *backend, [&](ReadTransaction& txn) {
          return txn.LoadCustomerState(uuid, false);
        });
    SetFactsBlobReads(FactsBlobReads::kIgnore);
    absl::StatusOr<CustomerState> rows = Read(
        *backend, [&](ReadTransaction& txn) {
          return txn.LoadCustomerState(uuid, false);
        });
    SetFactsBlobReads(FactsBlobReads::kUse);
    ASSERT_OK(blob);
    ASSERT_OK(rows);
    EXPECT_EQ(blob->customer.external_ids, rows->customer.external_ids);
    EXPECT_EQ(blob->customer.tags, rows->customer.tags);
    ASSERT_EQ(blob->facts.invoices.size(), rows->facts.invoices.size());
    ASSERT_EQ(blob->facts.cancellations.size(),
              rows->facts.cancellations.size());
    EXPECT_EQ(blob->settings.size(), rows->settings.size());
    if (uuid == "cus_1") {
      EXPECT_EQ(blob->customer.tags, std::vector<std::string>{"vip"});
      ASSERT_EQ(blob->facts.invoices.size(), 1u);
      const engine::Invoice& a = blob->facts.invoices[0];
      const engine::Invoice& b = rows->facts.invoices[0];
      EXPECT_EQ(a.due_date, b.due_date);
      ASSERT_EQ(a.line_items.size(), 1u);
      EXPECT_EQ(a.line_items[0].amount_in_cents, 2900);
      EXPECT_EQ(a.line_items[0].tax_amount_in_cents, 19);
      EXPECT_EQ(a.line_items[0].service_period_end,
                b.line_items[0].service_period_end);
      ASSERT_EQ(a.transactions.size(), 1u);
      EXPECT_EQ(a.transactions[0].amount_in_cents, std::nullopt);
      EXPECT_EQ(a.transactions[0].date, b.transactions[0].date);
      ASSERT_EQ(blob->facts.cancellations.size(), 1u);
      EXPECT_EQ(blob->facts.cancellations[0].cancelled_at,
                rows->facts.cancellations[0].cancelled_at);
    }
  }
}

// ---- Opening ----------------------------------------------------------------

TEST_F(SqliteBackendTest, CreatesMissingFolders) {
  const std::string nested = dir_ + "/a/b/c/recurrent.db";
  ASSERT_OK(Open(nested).status());
  EXPECT_TRUE(std::filesystem::is_regular_file(nested));
}

TEST_F(SqliteBackendTest, RejectsADirectory) {
  EXPECT_THAT(Open(dir_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir_), HasSubstr("directory"))));
}

TEST_F(SqliteBackendTest, RejectsAFileThatIsNotADatabase) {
  {
    std::ofstream file(path_);
    for (int i = 0; i < 200; ++i) file << "definitely not a database\n";
  }
  EXPECT_THAT(Open(path_), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr(path_)));
}

TEST_F(SqliteBackendTest, RejectsAFolderThatIsAFile) {
  const std::string file = dir_ + "/plain";
  { std::ofstream(file) << "x"; }
  EXPECT_THAT(Open(file + "/recurrent.db"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(file)));
}

TEST_F(SqliteBackendTest, RejectsAnUnwritableFolder) {
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

TEST_F(SqliteBackendTest, RejectsAFileThatCannotBeCreated) {
  // /proc refuses new files, even to root.
  const std::string path = "/proc/recurrent-persistence-test.db";
  EXPECT_THAT(Open(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
}

TEST_F(SqliteBackendTest, RejectsBadOptions) {
  EXPECT_THAT(Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
  SqliteBackend::Options options;
  options.path = path_;
  options.reader_pool_size = 0;
  EXPECT_THAT(SqliteBackend::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SqliteBackendTest, ReadOnlyServesReadsAndRefusesWrites) {
  const DataSourceRow source = SourceRow("s", absl::Now());
  {
    ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
    ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) {
      return txn.InsertDataSource(source);
    }));
  }
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_, /*read_only=*/true));
  EXPECT_OK(Read(*backend, [&](ReadTransaction& txn) {
    return txn.GetDataSource(source.uuid);
  }));
  EXPECT_THAT(
      Write(*backend,
            [&](WriteTransaction& txn) {
              return txn.InsertDataSource(SourceRow("t", absl::Now()));
            }),
      StatusIs(absl::StatusCode::kFailedPrecondition, "database is read-only"));
}

// ---- Locking and integrity --------------------------------------------------

TEST_F(SqliteBackendTest, WriteLockHeldElsewhereIsUnavailableReadsStillWork) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  const DataSourceRow source = SourceRow("s", absl::Now());
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) {
    return txn.InsertDataSource(source);
  }));
  RawDb other(path_);
  other.Exec("BEGIN IMMEDIATE");
  const absl::StatusOr<std::unique_ptr<WriteTransaction>> blocked =
      backend->BeginWrite();
  EXPECT_THAT(blocked, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(common::ReasonOf(blocked.status()), "DATABASE_BUSY");
  EXPECT_THAT(blocked.status().message(),
              AllOf(Not(HasSubstr("INSERT")), Not(HasSubstr("BEGIN"))));
  // WAL: readers are not blocked.
  EXPECT_OK(Read(*backend, [&](ReadTransaction& txn) {
    return txn.GetDataSource(source.uuid);
  }));
  other.Exec("COMMIT");
  EXPECT_OK(Write(*backend, [&](WriteTransaction& txn) {
    return txn.InsertDataSource(SourceRow("t", absl::Now()));
  }));
}

TEST_F(SqliteBackendTest, AFullDatabaseFailsTheWriteAndKeepsNothing) {
  { ASSERT_OK(Open(path_).status()); }
  int64_t pages = 0;
  {
    RawDb raw(path_);
    raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    pages = std::stoll(raw.Value("PRAGMA page_count"));
  }
  SqliteBackend::Options options;
  options.path = path_;
  options.max_page_count = pages;
  ASSERT_OK_AND_ASSIGN(auto backend, SqliteBackend::Open(options));
  std::vector<ChangeRow> rows(1000);
  for (ChangeRow& row : rows) {
    row.kind = ChangeKind::kCustomerChanged;
    row.customer_uuid = std::string(200, 'c');
  }
  EXPECT_THAT(
      Write(*backend,
            [&](WriteTransaction& txn) { return txn.AppendChanges(rows); }),
      StatusIs(absl::StatusCode::kResourceExhausted,
               "database or disk is full"));
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> stored,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.ReadChanges(0, 10);
                       }));
  EXPECT_THAT(stored, IsEmpty());
}

TEST_F(SqliteBackendTest, AnIoErrorAtCommitLeavesTheOutcomeOpen) {
  testing::SyncFaultVfs vfs;  // the backend's connections go through it
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  std::vector<ChangeRow> rows(1);
  rows[0].kind = ChangeKind::kCustomerChanged;
  rows[0].customer_uuid = "cus_1";
  const auto append = [&](WriteTransaction& txn) {
    return txn.AppendChanges(rows);
  };
  ASSERT_OK(Write(*backend, append));

  // The log's fsync fails once its frames, commit record included, are
  // written: a recovery of the log could replay them, so the caller cannot
  // be told that nothing was stored.
  vfs.FailSyncsOf("-wal");
  const absl::Status lost = Write(*backend, append);
  EXPECT_THAT(lost, StatusIs(absl::StatusCode::kUnavailable,
                             HasSubstr("may or may not be stored")));
  EXPECT_EQ(common::ReasonOf(lost), common::reason::kCommitOutcomeUnknown);
  EXPECT_GT(vfs.failed_syncs(), 0);

  // The backend goes on once the disk does.
  vfs.Heal();
  ASSERT_OK(Write(*backend, append));
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> stored,
                       Read(*backend, [](ReadTransaction& txn) {
                         return txn.ReadChanges(0, 10);
                       }));
  EXPECT_GE(stored.size(), 2u);
}

TEST_F(SqliteBackendTest, ForeignKeysAreEnforced) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  const absl::Time now = absl::Now();
  const DataSourceRow source = SourceRow("s", now);
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_RETURN_IF_ERROR(txn.InsertDataSource(source));
    return txn.InsertCustomer(CustomerRow(source.uuid, "x", now));
  }));
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const std::vector<std::string> survivors,
                               txn.DeleteDataSource(source.uuid));
    EXPECT_THAT(survivors, IsEmpty());
    return absl::OkStatus();
  }));
  backend.reset();
  RawDb raw(path_);
  // Cascades ran: no orphans anywhere.
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM settings_versions"), "0");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM customer_external_ids"), "0");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM customers"), "0");
  raw.Exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM pragma_foreign_key_check"), "0");
}

TEST_F(SqliteBackendTest, DeletingASourceLeavesNoOrphansInTheLaterTables) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  const absl::Time jan1 = absl::FromUnixSeconds(1'735'689'600);
  const DataSourceRow kept = SourceRow("k", jan1);
  const DataSourceRow doomed = SourceRow("d", jan1);
  const auto invoice = [&](const std::string& id, const std::string& source) {
    Invoice invoice;
    invoice.uuid = "inv_" + id;
    invoice.external_id = id;
    invoice.data_source_uuid = source;
    invoice.currency = "EUR";
    invoice.date = jan1;
    invoice.due_date = jan1 + absl::Hours(24);
    LineItem item;
    item.uuid = "li_" + id;
    item.external_id = id + "-li";
    item.subscription_external_id = id + "-sub";
    item.service_period_start = jan1;
    item.service_period_end = jan1 + absl::Hours(24 * 31);
    item.amount_in_cents = 100;
    invoice.line_items.push_back(item);
    Transaction payment;
    payment.uuid = "tr_" + id;
    payment.external_id = id + "-tr";
    payment.date = jan1;
    payment.result = engine::TransactionResult::kFailed;
    invoice.transactions.push_back(payment);
    return invoice;
  };
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_RETURN_IF_ERROR(txn.InsertDataSource(kept));
    RECURRENT_RETURN_IF_ERROR(txn.InsertDataSource(doomed));
    RECURRENT_RETURN_IF_ERROR(
        txn.InsertCustomer(CustomerRow(kept.uuid, "a", jan1)));
    RECURRENT_RETURN_IF_ERROR(
        txn.InsertCustomer(CustomerRow(doomed.uuid, "b", jan1)));
    RECURRENT_RETURN_IF_ERROR(
        txn.InsertCustomer(CustomerRow(doomed.uuid, "only", jan1)));
    RECURRENT_RETURN_IF_ERROR(txn.MoveCustomerRows("cus_b", "cus_a"));
    RECURRENT_RETURN_IF_ERROR(txn.InsertSubscriptions(
        {SubscriptionRef{"sub_K", "cus_a", kept.uuid, "K-sub"},
         SubscriptionRef{"sub_D", "cus_a", doomed.uuid, "D-sub"},
         SubscriptionRef{"sub_O", "cus_only", doomed.uuid, "O-sub"}}));
    RECURRENT_RETURN_IF_ERROR(txn.InsertInvoices(
        "cus_a", {invoice("K", kept.uuid), invoice("D", doomed.uuid)}));
    RECURRENT_RETURN_IF_ERROR(
        txn.InsertInvoices("cus_only", {invoice("O", doomed.uuid)}));
    RECURRENT_RETURN_IF_ERROR(txn.InsertCancellation("sub_O",
                                                     jan1 + absl::Hours(50),
                                                     jan1 + absl::Hours(50))
                                  .status());
    // A stored event per subscription.
    for (const std::string customer : {"cus_a", "cus_only"}) {
      RECURRENT_ASSIGN_OR_RETURN(const CustomerState state,
                                 txn.LoadCustomerState(customer, false));
      EvaluationWrite write;
      write.customer_key = state.key;
      for (const SubscriptionRow& sub : state.subscriptions) {
        write.inserted_events.push_back({"evt_" + sub.ref.external_id, sub.key,
                                         sub.source_key,
                                         engine::EventType::kStarted, jan1});
      }
      RECURRENT_RETURN_IF_ERROR(txn.WriteEvaluation(write));
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const std::vector<std::string> survivors,
                               txn.DeleteDataSource(doomed.uuid));
    EXPECT_THAT(survivors, ElementsAre("cus_a"));
    return absl::OkStatus();
  }));
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("SELECT group_concat(uuid) FROM customers"), "cus_a");
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
  EXPECT_EQ(raw.Value("SELECT group_concat(uuid) FROM subscription_events"),
            "evt_K-sub");
  raw.Exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(raw.Value("SELECT COUNT(*) FROM pragma_foreign_key_check"), "0");
}

TEST_F(SqliteBackendTest, StoresEnumsAsStableCodes) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(path_));
  const absl::Time now = absl::FromUnixSeconds(1'735'689'600);
  const DataSourceRow source = SourceRow("s", now);
  ASSERT_OK(Write(*backend, [&](WriteTransaction& txn) -> absl::Status {
    RECURRENT_RETURN_IF_ERROR(txn.InsertDataSource(source));
    RECURRENT_RETURN_IF_ERROR(
        txn.InsertCustomer(CustomerRow(source.uuid, "x", now)));
    std::vector<ChangeRow> rows(2);
    rows[0].kind = ChangeKind::kCustomerStatusChanged;
    rows[0].status = CustomerStatus::kActive;
    rows[0].previous_status = CustomerStatus::kLead;
    rows[1].kind = ChangeKind::kEventPublished;
    rows[1].event.type = engine::EventType::kAutoChurned;
    rows[1].event.status_after = engine::SubscriptionStatus::kCancelled;
    return txn.AppendChanges(rows);
  }));
  backend.reset();
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("SELECT status FROM customers"), "1");  // LEAD
  EXPECT_EQ(raw.Rows("SELECT kind, event_type, status, previous_status,"
                     " event_status_after FROM change_log ORDER BY sequence"),
            "3|NULL|2|1|NULL\n"  // STATUS_CHANGED: ACTIVE <- LEAD
            "1|5|NULL|NULL|4\n");  // EVENT_PUBLISHED: AUTO_CHURNED, CANCELLED
  // A code this build does not know is an error, not a guess.
  raw.Exec("UPDATE customers SET status = 9");
  raw.Exec("UPDATE change_log SET kind = 9");
  ASSERT_OK_AND_ASSIGN(backend, Open(path_));
  EXPECT_THAT(
      Read(*backend,
           [](ReadTransaction& txn) { return txn.GetCustomer("cus_x"); }),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("status")));
  EXPECT_THAT(Read(*backend,
                   [](ReadTransaction& txn) { return txn.ReadChanges(0, 10); }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("kind")));
}

// ---- Index use --------------------------------------------------------------

TEST_F(SqliteBackendTest, CustomerQueriesUseIndexes) {
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

TEST_F(SqliteBackendTest, InvoiceAndEventQueriesUseIndexes) {
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
  EXPECT_THAT(raw.QueryPlan("SELECT 1 FROM line_items li WHERE"
                            " li.data_source_id = 1 AND"
                            " li.subscription_external_id = 'x'"),
              HasSubstr("line_items_by_subscription"));
}

// Schema version 8: the MRR rows keep no covering index ordered by time
// for the sums over all sources (its upkeep was half of a large reprocess);
// those sums read the per-source covering indexes, one range per source
// (persistence/sqlite_mrr.cc, SumMrrRows), and ListMrrMovements over all
// sources pages in time order through a narrow index.
TEST_F(SqliteBackendTest, MrrSumsOverAllSourcesReadThePerSourceIndexes) {
  ASSERT_OK(Open(path_).status());
  RawDb raw(path_);
  EXPECT_THAT(raw.Column("SELECT name FROM sqlite_master WHERE type = 'index'"
                         " AND tbl_name IN ('mrr_movements', 'mrr_deltas')"
                         " ORDER BY name"),
              ElementsAre("mrr_deltas_by_customer", "mrr_deltas_by_source",
                          "mrr_movements_by_customer",
                          "mrr_movements_by_source", "mrr_movements_by_time"));
  const MrrSumSql all_sources = MakeMrrSumSql(false, "?1", "?2", "?3", "TOTAL");
  EXPECT_THAT(raw.QueryPlan(all_sources.movement_rows),
              AllOf(HasSubstr("COVERING INDEX mrr_movements_by_source"),
                    Not(HasSubstr("SCAN mrr_movements"))));
  for (const std::string& deltas :
       {all_sources.delta_rows, all_sources.sourceless_delta_rows}) {
    EXPECT_THAT(raw.QueryPlan(deltas),
                AllOf(HasSubstr("COVERING INDEX mrr_deltas_by_source"),
                      Not(HasSubstr("SCAN mrr_deltas"))));
  }
  const MrrSumSql one_source = MakeMrrSumSql(true, "?1", "?2", "?3", "TOTAL");
  EXPECT_THAT(raw.QueryPlan(one_source.movement_rows),
              HasSubstr("COVERING INDEX mrr_movements_by_source"));
  EXPECT_THAT(raw.QueryPlan(one_source.delta_rows),
              HasSubstr("COVERING INDEX mrr_deltas_by_source"));
  EXPECT_THAT(
      raw.QueryPlan("SELECT m.id FROM mrr_movements m WHERE"
                    " m.occurred_at >= 0 AND m.occurred_at < 9 AND"
                    " (m.occurred_at, m.id) > (0, 0)"
                    " ORDER BY m.occurred_at, m.id LIMIT 5"),
      AllOf(HasSubstr("mrr_movements_by_time"), Not(HasSubstr("TEMP B-TREE"))));
}

TEST_F(SqliteBackendTest, ClaimAndChangeLogQueriesUseIndexes) {
  ASSERT_OK(Open(path_).status());
  RawDb raw(path_);
  // ClaimDueCustomers.
  EXPECT_THAT(raw.QueryPlan("SELECT uuid FROM customers WHERE"
                            " next_transition_at <= 5"
                            " ORDER BY next_transition_at LIMIT 5"),
              AllOf(HasSubstr("customers_by_next_transition"),
                    Not(HasSubstr("TEMP B-TREE"))));
  // ReadChanges: a range of the key, in its order.
  EXPECT_THAT(raw.QueryPlan("SELECT sequence, kind FROM change_log"
                            " WHERE sequence > 7 ORDER BY sequence LIMIT 5"),
              AllOf(HasSubstr("SEARCH change_log USING INTEGER PRIMARY KEY"),
                    Not(HasSubstr("TEMP B-TREE"))));
  // PruneChanges: the oldest rows, in key order (stops at the limit).
  EXPECT_THAT(raw.QueryPlan("SELECT sequence, committed_at FROM change_log"
                            " ORDER BY sequence LIMIT 5"),
              Not(HasSubstr("TEMP B-TREE")));
  EXPECT_THAT(raw.QueryPlan("DELETE FROM change_log WHERE sequence <= 7"),
              HasSubstr("USING INTEGER PRIMARY KEY"));
}

TEST_F(SqliteBackendTest, ScanQueriesWalkIndexesInOrder) {
  ASSERT_OK(Open(path_).status());
  RawDb raw(path_);
  for (const std::string& sql : sqlite::SourceScanner::ScanQueries()) {
    const std::string plan = raw.QueryPlan(sql);
    EXPECT_THAT(plan,
                AllOf(Not(HasSubstr("TEMP B-TREE")), Not(HasSubstr("SCAN "))))
        << sql << "\n"
        << plan;
  }
}

// ---- Error mapping ----------------------------------------------------------

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
  // The reasons the API's google.rpc.ErrorInfo carries.
  EXPECT_EQ(common::ReasonOf(SqliteErrorToStatus(nullptr, SQLITE_BUSY, "step")),
            "DATABASE_BUSY");
  EXPECT_EQ(common::ReasonOf(SqliteErrorToStatus(nullptr, SQLITE_FULL, "step")),
            "DISK_FULL");
  EXPECT_EQ(
      common::ReasonOf(SqliteErrorToStatus(nullptr, SQLITE_READONLY, "step")),
      "DATABASE_READ_ONLY");
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
