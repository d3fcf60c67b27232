// Reprocessing a source on SQLite, beyond the Store suite: every stored row
// (not only what the API shows), chunking and threads, failures part-way,
// readers and writers meanwhile.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_backend.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/reprocess_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/persistence/raw_db.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::persistence::testing::RawDb;
using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;
using ::testing::HasSubstr;


// Every stored evaluation and event, all columns but the events' row ids
// (which a delete and re-insert of the same event may change).
std::string StoredEvaluations(RawDb& raw) {
  return raw.Rows(
             "SELECT id, uuid, status, derived_tags, next_transition_at"
             " FROM customers ORDER BY id") +
         raw.Rows(
             "SELECT id, uuid, status, started_at, past_due_since,"
             " cancelled_at, auto_churned, status_reason,"
             " current_period_start, current_period_end FROM subscriptions"
             " ORDER BY id") +
         raw.Rows(
             "SELECT uuid, subscription_id, customer_id, data_source_id,"
             " type, occurred_at FROM subscription_events ORDER BY uuid");
}

// Everything, row ids included, and the change log.
std::string FullDump(RawDb& raw) {
  return StoredEvaluations(raw) +
         raw.Rows("SELECT * FROM change_log ORDER BY sequence") +
         raw.Rows("SELECT * FROM subscription_events ORDER BY id") +
         raw.Rows("SELECT * FROM settings_versions ORDER BY version") +
         raw.Rows("SELECT * FROM invoices ORDER BY id") +
         raw.Rows("SELECT * FROM transactions ORDER BY id");
}

class SqliteReprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/recurrent.db";
    ASSERT_NO_FATAL_FAILURE(Open());
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Open(int64_t max_page_count = 0, int threads = 3, int chunk = 3,
            absl::Duration promote_after = absl::Milliseconds(250)) {
    store_.reset();
    backend_.reset();
    persistence::SqliteBackend::Options options;
    options.path = path_;
    options.max_page_count = max_page_count;
    // Faster.
    options.synchronous = persistence::SqliteBackend::Synchronous::kNormal;
    ASSERT_OK_AND_ASSIGN(backend_, persistence::SqliteBackend::Open(options));
    Store::Options store_options;
    store_options.reprocess_threads = threads;
    store_options.reprocess_chunk_customers = chunk;  // many chunks
    store_options.reprocess_promote_after = promote_after;
    store_ = std::make_unique<Store>(backend_.get(), store_options, nullptr);
  }

  // Source S with `n` customers of four kinds: an unpaid month, all paid,
  // renewals stopped after March, a month paid 20 days late.
  void Populate(int n) {
    ASSERT_OK_AND_ASSIGN(source_,
                         store_->CreateDataSource("S", "custom", kNow));
    for (int i = 0; i < n; ++i) {
      Customer customer;
      customer.data_source_uuid = source_.uuid;
      customer.external_id = absl::StrCat("c", i);
      ASSERT_OK_AND_ASSIGN(customer, store_->CreateCustomer(customer, kNow));
      const std::string id = customer.external_id;
      std::vector<Invoice> invoices;
      switch (i % 4) {
        case 0:
          invoices = Monthly(id, "s" + id, kJan, 6, {(i / 4) % 6});
          break;
        case 1:
          invoices = Monthly(id, "s" + id, kJan, 6);
          break;
        case 2:
          invoices = Monthly(id, "s" + id, kJan, 3);
          break;
        default:
          invoices =
              Monthly(id, "s" + id, kJan, 6, {}, {{2, Day(2025, 3, 21)}});
      }
      ASSERT_OK(store_->ImportInvoices(customer.uuid, invoices, kNow));
      customers_.push_back(customer.uuid);
    }
  }

  absl::StatusOr<Store::SettingsUpdate> Update(PastDueHandling handling,
                                               bool dry_run = false) {
    return store_->UpdateSettings(source_.uuid, SaveSettings(handling, kNow),
                                  dry_run, kNow);
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<persistence::SqliteBackend> backend_;
  std::unique_ptr<Store> store_;
  DataSource source_;
  std::vector<std::string> customers_;
};

TEST_F(SqliteReprocessTest, ReversalRestoresEveryStoredRow) {
  ASSERT_NO_FATAL_FAILURE(Populate(40));
  RawDb raw(path_);
  const std::string initial = StoredEvaluations(raw);
  for (const PastDueHandling& handling :
       {AutoChurn(14), AutoChurn(30), AutoChurn(1), kKeep}) {
    ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate update, Update(handling));
    EXPECT_EQ(update.impact.customers_reprocessed, 40);
    EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers_, kNow),
              "");
  }
  EXPECT_EQ(StoredEvaluations(raw), initial);
}

TEST_F(SqliteReprocessTest, DryRunWritesNothingAtAll) {
  ASSERT_NO_FATAL_FAILURE(Populate(20));
  RawDb raw(path_);
  const std::string before = FullDump(raw);
  ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate preview,
                       Update(AutoChurn(14), /*dry_run=*/true));
  EXPECT_GT(preview.impact.auto_churns_applied, 0);
  EXPECT_EQ(FullDump(raw), before);
  ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate applied, Update(AutoChurn(14)));
  EXPECT_THAT(applied.impact,
              ImpactIs(preview.impact.customers_reprocessed,
                       preview.impact.auto_churns_reversed,
                       preview.impact.auto_churns_applied,
                       preview.impact.customers_status_changed));
  EXPECT_NE(FullDump(raw), before);
}

TEST_F(SqliteReprocessTest, RejectedFactsPartWayRollBackEverything) {
  ASSERT_NO_FATAL_FAILURE(Populate(30));
  RawDb raw(path_);
  // Customer c20's facts become invalid behind the storage's back (an empty
  // service period); the chunks before it are written first.
  raw.Exec(
      "UPDATE line_items SET service_period_end = service_period_start"
      " WHERE external_id = 'c20-0-li'");
  const std::string before = FullDump(raw);
  EXPECT_THAT(
      Update(AutoChurn(14)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(customers_[20])));
  EXPECT_EQ(FullDump(raw), before);
  ASSERT_OK_AND_ASSIGN(SourceSettings settings,
                       store_->GetSettings(source_.uuid));
  EXPECT_EQ(settings.version, 1);
  // Repaired, the same change goes through.
  raw.Exec(
      "UPDATE line_items SET service_period_end = service_period_start +"
      " 86400000000 WHERE external_id = 'c20-0-li'");
  EXPECT_OK(Update(AutoChurn(14)));
}

TEST_F(SqliteReprocessTest, AFullDiskPartWayRollsBackEverything) {
  ASSERT_NO_FATAL_FAILURE(Populate(200));
  int64_t pages = 0;
  {
    RawDb raw(path_);
    raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    pages = std::stoll(raw.Value("PRAGMA page_count"));
  }
  ASSERT_NO_FATAL_FAILURE(Open(/*max_page_count=*/pages));
  RawDb raw(path_);
  const std::string before = FullDump(raw);
  // Auto-churns add events: the database must grow, and cannot.
  EXPECT_THAT(Update(AutoChurn(14)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(FullDump(raw), before);
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers_, kNow),
            "");
  // With room again, it succeeds.
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate update, Update(AutoChurn(14)));
  EXPECT_GT(update.impact.auto_churns_applied, 0);
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers_, kNow),
            "");
}

TEST_F(SqliteReprocessTest, ReadersAreServedAndSeeTheOldOrTheNewState) {
  ASSERT_NO_FATAL_FAILURE(Populate(60));
  CustomerFilter cancelled;
  cancelled.status = CustomerStatus::kCancelled;
  const auto count_cancelled = [&]() -> int {
    absl::StatusOr<Page<Customer>> page =
        store_->ListCustomers(cancelled, {1000, ""});
    return page.ok() ? static_cast<int>(page->items.size()) : -1;
  };
  const int under_keep = count_cancelled();
  ASSERT_OK(Update(AutoChurn(14)));
  const int under_auto = count_cancelled();
  ASSERT_NE(under_keep, under_auto);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      while (!done.load()) {
        const int n = count_cancelled();
        if (n != under_keep && n != under_auto) ++failures;
        if (!store_->GetCustomer(customers_[(reads.load() + r) % 60]).ok()) {
          ++failures;
        }
        ++reads;
      }
    });
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(Update(i % 2 == 0 ? kKeep : AutoChurn(14)));
    ASSERT_OK(Update(AutoChurn(14), /*dry_run=*/true));
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_F(SqliteReprocessTest, WritesDuringAReprocessAreSerializedWithIt) {
  ASSERT_NO_FATAL_FAILURE(Populate(40));
  // Pays every unpaid invoice while the settings flip: each write is
  // computed under the settings in force when it runs, and nothing is lost.
  std::thread writer([&] {
    for (int i = 0; i < 40; i += 4) {
      absl::StatusOr<Page<Invoice>> invoices = store_->ListInvoices(
          [&] {
            InvoiceFilter filter;
            filter.customer_uuid = customers_[i];
            return filter;
          }(),
          {100, ""});
      ASSERT_OK(invoices);
      for (const Invoice& invoice : invoices->items) {
        if (!invoice.transactions.empty()) continue;
        EXPECT_OK(store_->AddTransaction(
            invoice.uuid, Payment(invoice.external_id + "-late", kNow), kNow));
      }
    }
  });
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(Update(i % 2 == 0 ? AutoChurn(14) : AutoChurn(30)));
  }
  writer.join();
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers_, kNow),
            "");
  ASSERT_OK_AND_ASSIGN(SettingsImpact impact,
                       store_->ReprocessDataSource(source_.uuid, kNow));
  EXPECT_THAT(impact, ImpactIs(40, 0, 0, 0));  // nothing was stale
}

TEST_F(SqliteReprocessTest, ReprocessRestoresAStoredEventThatWentMissing) {
  ASSERT_NO_FATAL_FAILURE(Populate(8));
  ASSERT_OK(Update(AutoChurn(14)));
  RawDb raw(path_);
  const std::string before = StoredEvaluations(raw);
  // As if an older build had not stored this churn.
  raw.Exec(
      "DELETE FROM subscription_events WHERE id = (SELECT MIN(id) FROM"
      " subscription_events WHERE type = 5)");
  ASSERT_OK_AND_ASSIGN(SettingsImpact impact,
                       store_->ReprocessDataSource(source_.uuid, kNow));
  EXPECT_THAT(impact, ImpactIs(8, 0, 1, 0));
  EXPECT_EQ(StoredEvaluations(raw), before);  // same uuid again
}

TEST_F(SqliteReprocessTest, AnyNumberOfThreadsAndChunksGivesTheSameResult) {
  ASSERT_NO_FATAL_FAILURE(Populate(25));
  RawDb raw(path_);
  std::string expected;
  // The last run raises its threads from idle priority at once (as if
  // starved).
  struct Run {
    int threads;
    int chunk;
    absl::Duration promote_after = absl::Milliseconds(250);
  };
  for (const auto& [threads, chunk, promote_after] : std::vector<Run>{
           {1, 1000}, {1, 1}, {4, 2}, {2, 7}, {2, 3, absl::ZeroDuration()}}) {
    ASSERT_NO_FATAL_FAILURE(Open(0, threads, chunk, promote_after));
    ASSERT_OK(Update(kKeep));
    ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate update, Update(AutoChurn(21)));
    const std::string state = StoredEvaluations(raw);
    if (expected.empty()) expected = state;
    EXPECT_EQ(state, expected) << threads << " threads, chunks of " << chunk;
    EXPECT_EQ(update.impact.customers_reprocessed, 25);
  }
}

}  // namespace
}  // namespace recurrent::core::testing
