// Group commit (core/group_commit.h): small writes that run at once share
// one transaction and one commit, each still all-or-nothing. Run over every
// backend, with a FaultyBackend whose statements are slowed down so that
// writes started while another is running queue behind it and form a group.
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/testing/backends.h"
#include "tests/testing/faulty_backend.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::FaultyBackend;
using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;
using ::recurrent::testing::TestBackend;
using ::testing::UnorderedElementsAreArray;

using Call = std::function<absl::Status()>;

class GroupCommitTest : public ::testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
    faulty_ = std::make_unique<FaultyBackend>(backend_.get());
    Store::Options options;
    options.max_group_writes = 64;
    store_ = std::make_unique<Store>(faulty_.get(), options, nullptr);
  }
  void TearDown() override {
    store_.reset();
    faulty_.reset();
    backend_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs `first` on a thread and, once it has begun, each of `rest` on a
  // thread of its own, while every statement takes 20 ms: `rest` queue
  // behind `first` and run as one group after it. They start 5 ms apart, so
  // that they almost always queue in their order (started at once, a
  // thread often overtook the one before it on a loaded machine); a test
  // must not depend on that order entirely. Returns the statuses in the
  // order of the calls (first's first).
  std::vector<absl::Status> RunQueued(const Call& first,
                                      const std::vector<Call>& rest) {
    faulty_->Delay(absl::Milliseconds(20));
    std::vector<absl::Status> statuses(rest.size() + 1);
    const int64_t before = faulty_->statements();
    std::vector<std::thread> threads;
    threads.emplace_back([&] { statuses[0] = first(); });
    while (faulty_->statements() == before) absl::SleepFor(absl::Milliseconds(1));
    for (size_t i = 0; i < rest.size(); ++i) {
      if (i > 0) absl::SleepFor(absl::Milliseconds(5));
      threads.emplace_back([&, i] { statuses[i + 1] = rest[i](); });
    }
    for (std::thread& thread : threads) thread.join();
    faulty_->Delay(absl::ZeroDuration());
    return statuses;
  }

  Call Create(const std::string& name) {
    return [this, name] {
      return store_->CreateDataSource(name, "custom", kNow_).status();
    };
  }

  std::vector<std::string> SourceNames() {
    std::vector<std::string> names;
    absl::StatusOr<Page<DataSource>> page = store_->ListDataSources({1000, ""});
    EXPECT_OK(page.status());
    if (page.ok()) {
      for (const DataSource& source : page->items) names.push_back(source.name);
    }
    return names;
  }

  std::string dir_;
  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<FaultyBackend> faulty_;
  std::unique_ptr<Store> store_;
  const absl::Time kNow_ = Day(2025, 3, 1);
};

INSTANTIATE_TEST_SUITE_P(
    Backends, GroupCommitTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

TEST_P(GroupCommitTest, AFailedWriteRollsBackAloneInItsGroup) {
  ASSERT_OK(store_->CreateDataSource("taken", "custom", kNow_).status());
  const std::vector<absl::Status> statuses = RunQueued(
      Create("first"),
      {Create("a"), Create("taken"), Create("b"), Create("c"), Create("d")});
  EXPECT_OK(statuses[0]);
  EXPECT_OK(statuses[1]);
  // The write that fails inside the shared transaction (PostgreSQL aborts
  // the transaction at its failed INSERT) fails alone.
  EXPECT_THAT(statuses[2], StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_OK(statuses[3]);
  EXPECT_OK(statuses[4]);
  EXPECT_OK(statuses[5]);
  EXPECT_THAT(SourceNames(), UnorderedElementsAreArray(
                                 {"taken", "first", "a", "b", "c", "d"}));
  const GroupCommit::Stats stats = store_->group_commit_stats();
  EXPECT_GE(stats.shared_groups, 1);
  EXPECT_GE(stats.largest_group, 2);
  EXPECT_EQ(stats.writes, 7);  // "taken" first, then the six
}

TEST_P(GroupCommitTest, ATransactionThatEndsUnderAWriteFailsOnlyTheWritesRunInIt) {
  ASSERT_OK(store_->CreateDataSource("taken", "custom", kNow_).status());
  // As SQLite does after a full disk: the failed write cannot be rolled
  // back to its savepoint, the whole transaction is gone.
  faulty_->FailOn("RollbackToSavepoint",
                  absl::InternalError("injected: transaction rolled back"));
  const std::vector<std::string> names = {"a", "b", "taken", "c", "d", "e"};
  std::vector<Call> rest;
  for (const std::string& name : names) rest.push_back(Create(name));
  const std::vector<absl::Status> statuses = RunQueued(Create("first"), rest);
  EXPECT_TRUE(faulty_->fired());
  EXPECT_OK(statuses[0]);
  std::vector<std::string> expected = {"taken", "first"};
  int lost = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const absl::Status& status = statuses[i + 1];
    if (names[i] == "taken") {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kAlreadyExists));
    } else if (status.ok()) {
      expected.push_back(names[i]);  // after it: run in the next group
    } else {
      // Before it in the group: not stored, and told to retry (the reason
      // that carries a retry delay to the client).
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable)) << names[i];
      EXPECT_EQ(common::ReasonOf(status).value_or(""),
                common::reason::kDatabaseBusy)
          << names[i];
      ++lost;
    }
  }
  EXPECT_THAT(SourceNames(), UnorderedElementsAreArray(expected));
  // A retry of a lost write succeeds.
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "taken" && !statuses[i + 1].ok()) {
      EXPECT_OK(Create(names[i])());
    }
  }
  EXPECT_EQ(SourceNames().size(), names.size() + 1);
  (void)lost;
}

// The same when the write that ended the transaction failed because the
// disk is full: the writes run before it in the group are told so too
// (DISK_FULL, no retry delay), not to retry in a second, which would only
// fail again.
TEST_P(GroupCommitTest, WritesLostToAFullDiskAreToldTheDiskIsFull) {
  ASSERT_OK_AND_ASSIGN(const DataSource source,
                       store_->CreateDataSource("s", "custom", kNow_));
  // The customer's insert fails as a full disk does, and SQLite then rolls
  // the whole transaction back (its savepoint is gone).
  faulty_->FailOn("InsertCustomer",
                  common::WithReason(absl::ResourceExhaustedError("disk full"),
                                     common::reason::kDiskFull));
  faulty_->FailOn("RollbackToSavepoint",
                  absl::InternalError("injected: transaction rolled back"));
  const Call customer = [&] {
    Customer c;
    c.data_source_uuid = source.uuid;
    c.external_id = "c";
    return store_->CreateCustomer(c, kNow_).status();
  };
  const std::vector<absl::Status> statuses = RunQueued(
      Create("first"), {Create("a1"), Create("a2"), Create("a3"), customer});
  EXPECT_TRUE(faulty_->fired());
  EXPECT_OK(statuses[0]);
  EXPECT_EQ(common::ReasonOf(statuses[4]).value_or(""),
            common::reason::kDiskFull);
  int lost = 0;
  for (size_t i = 1; i < 4; ++i) {
    if (statuses[i].ok()) continue;  // after it: run in the next group
    ++lost;
    EXPECT_EQ(common::ReasonOf(statuses[i]).value_or(""),
              common::reason::kDiskFull)
        << statuses[i];
  }
  EXPECT_GE(lost, 1) << "no write ran before the failing one in its group";
}

TEST_P(GroupCommitTest, ImportsInOneGroupBehaveAsOneAtATime) {
  ASSERT_OK_AND_ASSIGN(const DataSource source,
                       store_->CreateDataSource("s", "custom", kNow_));
  std::vector<std::string> customers;
  for (int i = 0; i < 5; ++i) {
    Customer customer;
    customer.data_source_uuid = source.uuid;
    customer.external_id = absl::StrCat("c", i);
    ASSERT_OK_AND_ASSIGN(customer, store_->CreateCustomer(customer, kNow_));
    customers.push_back(customer.uuid);
  }
  const absl::Time jan = Day(2025, 1, 1);
  const absl::Time feb = Day(2025, 2, 1);
  auto invoice = [&](const std::string& id, const std::string& subscription,
                     std::optional<absl::Time> paid) {
    Invoice result = MonthlyInvoice(id, subscription, jan, feb, jan);
    if (paid.has_value()) result.transactions.push_back(Payment(id + "-p", *paid));
    return result;
  };
  // Its line item's external id is taken: c0's "i0-li".
  Invoice taken = MonthlyInvoice("i3b", "s3", jan, feb, jan);
  taken.line_items[0].external_id = "i0-li";
  std::vector<absl::StatusOr<std::vector<Invoice>>> results(6);
  auto import = [&](int slot, int customer, std::vector<Invoice> invoices) {
    return [&, slot, customer, invoices] {
      results[slot] = store_->ImportInvoices(customers[customer], invoices, kNow_);
      return results[slot].status();
    };
  };
  const std::vector<absl::Status> statuses = RunQueued(
      import(0, 0, {invoice("i0", "s0", jan)}),
      {
          import(1, 1, {invoice("i1", "s1", jan)}),
          // Sent twice at once: stored once, both answered with it.
          import(2, 2, {invoice("i2", "s2", std::nullopt)}),
          import(3, 2, {invoice("i2", "s2", std::nullopt)}),
          // Its first invoice is inserted, then its second's line item
          // external id is found taken (c0's "i0-li"): nothing of it stays.
          import(4, 3, {invoice("i3", "s3", jan), taken}),
          import(5, 4, {invoice("i4", "s4", jan)}),
      });
  (void)statuses;
  EXPECT_OK(results[0].status());
  EXPECT_OK(results[1].status());
  ASSERT_OK(results[2].status());
  ASSERT_OK(results[3].status());
  EXPECT_EQ(Dump(*results[2]), Dump(*results[3]));
  EXPECT_THAT(results[4].status(), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_OK(results[5].status());
  EXPECT_GE(store_->group_commit_stats().shared_groups, 1);

  auto invoices_of = [&](int customer) {
    InvoiceFilter filter;
    filter.customer_uuid = customers[customer];
    absl::StatusOr<Page<Invoice>> page = store_->ListInvoices(filter, {100, ""});
    EXPECT_OK(page.status());
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const Invoice& i : page->items) ids.push_back(i.external_id);
    }
    return ids;
  };
  EXPECT_THAT(invoices_of(0), ::testing::ElementsAre("i0"));
  EXPECT_THAT(invoices_of(1), ::testing::ElementsAre("i1"));
  EXPECT_THAT(invoices_of(2), ::testing::ElementsAre("i2"));
  EXPECT_THAT(invoices_of(3), ::testing::IsEmpty());
  EXPECT_THAT(invoices_of(4), ::testing::ElementsAre("i4"));
  // Every stored evaluation is what a fresh evaluation gives: a reprocess
  // finds nothing to change.
  ASSERT_OK_AND_ASSIGN(const persistence::SettingsImpact impact,
                       store_->ReprocessDataSource(source.uuid, kNow_));
  EXPECT_EQ(impact.customers_status_changed, 0);
  EXPECT_EQ(impact.auto_churns_applied + impact.auto_churns_reversed, 0);
  ASSERT_OK_AND_ASSIGN(const EvaluatedCustomer c2,
                       store_->EvaluateCustomer(customers[2], kNow_));
  EXPECT_EQ(c2.evaluation.status, engine::CustomerStatus::kPastDue);
}

}  // namespace
}  // namespace recurrent::core::testing
