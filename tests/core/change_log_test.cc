// The change log (persistence::ChangeRow), over every backend: events are
// published once they are known and due, retracted with the same uuid when
// they disappear, customer status changes carry the previous status, input
// changes are logged for caches, and replaying a customer's log always gives
// its ListSubscriptionEvents as of now.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/error_reason.h"
#include "core/reevaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/reprocess_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/testing/change_log_checks.h"
#include "tests/testing/faulty_backend.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using persistence::ChangeKind;
using persistence::ChangeRow;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using EventType = engine::EventType;


class ChangeLogTest : public StoreTest {
 protected:
  // Every row after `after`.
  std::vector<ChangeRow> RowsAfter(int64_t after) {
    absl::StatusOr<std::vector<ChangeRow>> rows =
        store_->ReadChanges(after, 1'000'000);
    EXPECT_OK(rows);
    return rows.ok() ? *std::move(rows) : std::vector<ChangeRow>{};
  }
  int64_t LastSequence() {
    const std::vector<ChangeRow> rows = RowsAfter(0);
    return rows.empty() ? 0 : rows.back().sequence;
  }

  // (kind, event type, occurred_at) of the event rows of `customer`.
  static std::vector<std::tuple<ChangeKind, EventType, absl::Time>> EventRows(
      const std::vector<ChangeRow>& rows, const std::string& customer) {
    std::vector<std::tuple<ChangeKind, EventType, absl::Time>> out;
    for (const ChangeRow& row : rows) {
      if (row.customer_uuid != customer) continue;
      if (row.kind == ChangeKind::kEventPublished ||
          row.kind == ChangeKind::kEventRetracted) {
        out.emplace_back(row.kind, row.event.type, row.event.occurred_at);
      }
    }
    return out;
  }
  // (previous, new) of the status rows of `customer`.
  static std::vector<std::pair<CustomerStatus, CustomerStatus>> StatusRows(
      const std::vector<ChangeRow>& rows, const std::string& customer) {
    std::vector<std::pair<CustomerStatus, CustomerStatus>> out;
    for (const ChangeRow& row : rows) {
      if (row.customer_uuid == customer &&
          row.kind == ChangeKind::kCustomerStatusChanged) {
        out.emplace_back(row.previous_status, row.status);
      }
    }
    return out;
  }

  // Once the re-evaluator has run at `now`, the whole log agrees with the
  // stored state (tests/testing/change_log_checks.h).
  void ExpectLogReplaysTo(absl::Time now) {
    EXPECT_OK(store_->ReevaluateDueCustomers(now, 1000));
    EXPECT_EQ(::recurrent::testing::ChangeLogMismatches(*store_, now), "");
  }

  // Source "S" auto-churning after `days` (0: KEEP) from 2025-01-01.
  DataSource Source(int days) {
    DataSource source = NewSource("S");
    if (days > 0) {
      EXPECT_OK(store_->UpdateSettings(
          source.uuid, SaveSettings(AutoChurn(days), Day(2025, 1, 1)), false,
          Day(2025, 1, 1)));
    }
    return source;
  }
};

INSTANTIATE_TEST_SUITE_P(
    Backends, ChangeLogTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

TEST_P(ChangeLogTest, PastEventsArePublishedAtOnceFutureOnesWhenTheyAreDue) {
  const DataSource source = Source(14);
  const Customer customer = NewCustomer(source.uuid, "c");
  const int64_t before = LastSequence();
  // January and March paid, February not: past due from Feb 1, churning on
  // Feb 15 under X=14.
  ASSERT_OK(store_->ImportInvoices(
      customer.uuid, Monthly("c", "s", kJan, 3, {1}), Day(2025, 2, 10)));
  std::vector<ChangeRow> rows = RowsAfter(before);
  EXPECT_THAT(
      EventRows(rows, customer.uuid),
      ElementsAre(std::make_tuple(ChangeKind::kEventPublished,
                                  EventType::kStarted, Day(2025, 1, 1)),
                  std::make_tuple(ChangeKind::kEventPublished,
                                  EventType::kPastDue, Day(2025, 2, 1))));
  EXPECT_THAT(
      StatusRows(rows, customer.uuid),
      ElementsAre(Pair(CustomerStatus::kLead, CustomerStatus::kPastDue)));
  // Its inputs changed (for caches).
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [&](const ChangeRow& row) {
                            return row.kind == ChangeKind::kCustomerChanged &&
                                   row.customer_uuid == customer.uuid;
                          }),
            1);

  // Nothing is due before the churn's instant.
  int64_t mark = LastSequence();
  ASSERT_OK(
      store_->ReevaluateDueCustomers(Day(2025, 2, 15) - absl::Seconds(1), 100));
  EXPECT_THAT(EventRows(RowsAfter(mark), customer.uuid), IsEmpty());
  // The re-evaluator publishes it once its time has come, with its own
  // instant.
  ASSERT_OK(store_->ReevaluateDueCustomers(Day(2025, 2, 16), 100));
  rows = RowsAfter(mark);
  EXPECT_THAT(
      EventRows(rows, customer.uuid),
      ElementsAre(std::make_tuple(ChangeKind::kEventPublished,
                                  EventType::kAutoChurned, Day(2025, 2, 15))));
  EXPECT_THAT(
      StatusRows(rows, customer.uuid),
      ElementsAre(Pair(CustomerStatus::kPastDue, CustomerStatus::kCancelled)));
  for (const ChangeRow& row : rows) {
    EXPECT_EQ(row.committed_at, Day(2025, 2, 16));
    EXPECT_NE(row.kind, ChangeKind::kCustomerChanged) << "time is no input";
  }
  ExpectLogReplaysTo(Day(2025, 2, 16));
}

// A write that took its `now` before the re-evaluator (or another replica)
// committed a later evaluation of the customer, and then waited for its
// locks, must not move the customer back in time: nothing published is
// retracted, and the re-evaluator does not apply the same transition again.
// A settings change holds its source (and the other sources of its merged
// customers) for as long as it runs; the re-evaluator meanwhile applies the
// transitions of customers in other sources and leaves those in the held
// source due, without waiting: waiting would keep the locks it has, and
// writes to those sources would wait behind it.
// A write waits a bounded time for a source another transaction holds (a
// reprocess, on another replica), then answers DATABASE_BUSY with nothing
// stored; writes to other sources go on meanwhile.
TEST_P(ChangeLogTest, AWriteWaitsABoundedTimeForAHeldSource) {
  if (GetParam().name == "Sqlite") {
    GTEST_SKIP() << "SQLite runs one write transaction at a time";
  }
  // As the server runs on PostgreSQL: every write in a transaction of its
  // own (a group waiting for one write's lock would hold up the others).
  Store::Options ungrouped;
  ungrouped.max_group_writes = 1;
  store_ = std::make_unique<Store>(backend_.get(), ungrouped, nullptr);
  const DataSource held = NewSource("held");
  const DataSource free = NewSource("free");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<persistence::WriteTransaction> hold,
                       backend_->BeginWrite());
  ASSERT_OK(hold->LockSourceWithItsCustomers(held.uuid));

  absl::StatusOr<Customer> refused;
  std::thread writer([&] {
    Customer customer;
    customer.data_source_uuid = held.uuid;
    customer.external_id = "waits";
    refused = store_->CreateCustomer(customer, Tick());
  });
  // Once the writer waits (it cannot take longer than this to reach the
  // lock), a write to another source goes through, without waiting for it.
  absl::SleepFor(absl::Milliseconds(500));
  const auto before_write = std::chrono::steady_clock::now();
  NewCustomer(free.uuid, "goes-on");  // asserts OK
  EXPECT_LT(std::chrono::steady_clock::now() - before_write,
            std::chrono::seconds(2))
      << "the write to the free source waited for the held one";
  writer.join();  // ends by itself: the test fails by timeout otherwise
  EXPECT_THAT(refused, ::recurrent::testing::StatusIs(
                           absl::StatusCode::kUnavailable,
                           ::testing::HasSubstr("past the lock timeout")));
  EXPECT_EQ(common::ReasonOf(refused.status()),
            std::optional<std::string>(common::reason::kDatabaseBusy));
  hold.reset();
  CustomerFilter of_held;
  of_held.data_source_uuid = held.uuid;
  ASSERT_OK_AND_ASSIGN(const Page<Customer> listed,
                       store_->ListCustomers(of_held, PageRequest{10, ""}));
  EXPECT_TRUE(listed.items.empty());  // nothing of it was stored
}

// The customers of a held source come first in due order; a run steps over
// them to the others due rather than stopping at its first batch.
TEST_P(ChangeLogTest, ARunGoesOnPastTheCustomersOfAHeldSource) {
  if (GetParam().name == "Sqlite") {
    GTEST_SKIP() << "SQLite runs one write transaction at a time";
  }
  const DataSource held = Source(14);
  std::vector<Customer> in_held;
  for (int i = 0; i < 3; ++i) {
    in_held.push_back(NewCustomer(held.uuid, absl::StrCat("h", i)));
  }
  const DataSource free = NewSource("T");
  ASSERT_OK(store_->UpdateSettings(free.uuid,
                                   SaveSettings(AutoChurn(14), Day(2025, 1, 1)),
                                   false, Day(2025, 1, 1)));
  const Customer in_free = NewCustomer(free.uuid, "f");
  in_held.push_back(in_free);
  // February unpaid: all churn on Feb 15, the held source's first (their
  // ids are lower).
  for (const Customer& customer : in_held) {
    ASSERT_OK(store_->ImportInvoices(
        customer.uuid,
        Monthly(customer.external_id, "s-" + customer.external_id, kJan, 3,
                {1}),
        Day(2025, 2, 10)));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<persistence::WriteTransaction> hold,
                       backend_->BeginWrite());
  ASSERT_OK(hold->LockSourceWithItsCustomers(held.uuid));

  common::FakeClock clock(Day(2025, 2, 16));
  Reevaluator reevaluator(store_.get(), &clock,
                          Reevaluator::Options{absl::ZeroDuration(), 2});
  ASSERT_OK_AND_ASSIGN(const int done, reevaluator.RunOnce());
  EXPECT_EQ(done, 1);
  EXPECT_EQ(StatusRows(RowsAfter(0), in_free.uuid).back().second,
            CustomerStatus::kCancelled);
  hold.reset();
  ASSERT_OK_AND_ASSIGN(const int rest, reevaluator.RunOnce());
  EXPECT_EQ(rest, 3);
}

TEST_P(ChangeLogTest, TheReevaluatorSkipsCustomersOfAHeldSourceWithoutWaiting) {
  if (GetParam().name == "Sqlite") {
    GTEST_SKIP() << "SQLite runs one write transaction at a time: the round "
                    "waits for the held one whatever it locks";
  }
  const DataSource held = Source(14);
  const DataSource free = NewSource("T");
  ASSERT_OK(store_->UpdateSettings(free.uuid,
                                   SaveSettings(AutoChurn(14), Day(2025, 1, 1)),
                                   false, Day(2025, 1, 1)));
  const Customer in_held = NewCustomer(held.uuid, "h");
  const Customer in_free = NewCustomer(free.uuid, "f");
  // February unpaid: both churn on Feb 15.
  for (const Customer* customer : {&in_held, &in_free}) {
    ASSERT_OK(store_->ImportInvoices(
        customer->uuid, Monthly(customer->external_id, "s", kJan, 3, {1}),
        Day(2025, 2, 10)));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<persistence::WriteTransaction> hold,
                       backend_->BeginWrite());
  ASSERT_OK(hold->LockSourceWithItsCustomers(held.uuid));

  std::atomic<bool> done{false};
  absl::StatusOr<int> first = 0;
  std::thread round([&] {
    first = store_->ReevaluateDueCustomers(Day(2025, 2, 16), 100);
    done = true;
  });
  for (int i = 0; i < 1000 && !done; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_TRUE(done) << "the round waited for the held source";
  hold.reset();  // rolled back: the source is free again
  round.join();
  ASSERT_OK(first);
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(StatusRows(RowsAfter(0), in_free.uuid).back().second,
            CustomerStatus::kCancelled);
  EXPECT_EQ(StatusRows(RowsAfter(0), in_held.uuid).back().second,
            CustomerStatus::kPastDue);
  // The next round applies the skipped one.
  ASSERT_OK_AND_ASSIGN(const int second,
                       store_->ReevaluateDueCustomers(Day(2025, 2, 16), 100));
  EXPECT_EQ(second, 1);
  EXPECT_EQ(StatusRows(RowsAfter(0), in_held.uuid).back().second,
            CustomerStatus::kCancelled);
}

TEST_P(ChangeLogTest, AWriteWithAnEarlierNowDoesNotMoveTheCustomerBack) {
  const DataSource source = Source(14);
  const Customer customer = NewCustomer(source.uuid, "c");
  ASSERT_OK(store_->ImportInvoices(
      customer.uuid, Monthly("c", "s", kJan, 3, {1}), Day(2025, 2, 10)));
  // The churn of Feb 15 is applied on Feb 16.
  ASSERT_OK(store_->ReevaluateDueCustomers(Day(2025, 2, 16), 100));
  const int64_t mark = LastSequence();
  // A write whose request arrived on Feb 14 commits only now: a one-time
  // charge, which changes no subscription but recomputes the customer.
  Invoice setup_fee;
  setup_fee.external_id = "fee";
  setup_fee.currency = "EUR";
  setup_fee.date = Day(2025, 1, 5);
  LineItem fee = SubscriptionItem("fee-li", "", Day(2025, 1, 5),
                                  Day(2025, 1, 6));
  fee.type = engine::LineItemType::kOneTime;
  setup_fee.line_items.push_back(fee);
  ASSERT_OK(
      store_->ImportInvoices(customer.uuid, {setup_fee}, Day(2025, 2, 14)));
  ASSERT_OK_AND_ASSIGN(const Customer updated,
                       store_->GetCustomer(customer.uuid));
  EXPECT_EQ(updated.status, CustomerStatus::kCancelled);
  // The re-evaluator then finds nothing to apply again.
  ASSERT_OK(store_->ReevaluateDueCustomers(Day(2025, 2, 17), 100));
  const std::vector<ChangeRow> rows = RowsAfter(mark);
  EXPECT_THAT(EventRows(rows, customer.uuid), IsEmpty());
  EXPECT_THAT(StatusRows(rows, customer.uuid), IsEmpty());
  ExpectLogReplaysTo(Day(2025, 2, 17));
}

TEST_P(ChangeLogTest, ASettingsReversalRetractsExactlyTheChurnsItRemoves) {
  const DataSource source = Source(14);
  std::vector<std::string> customers;
  for (int i = 0; i < 5; ++i) {
    const Customer customer = NewCustomer(source.uuid, absl::StrCat("c", i));
    customers.push_back(customer.uuid);
    // Two customers pay everything through June; the others never pay
    // February (past due from Feb 1, churned on Feb 15).
    ASSERT_OK(store_->ImportInvoices(
        customer.uuid,
        i < 2
            ? Monthly(absl::StrCat("c", i), absl::StrCat("s", i), kJan, 6)
            : Monthly(absl::StrCat("c", i), absl::StrCat("s", i), kJan, 2, {1}),
        Day(2025, 6, 1)));
  }
  std::set<std::string> churns;
  for (const ChangeRow& row : RowsAfter(0)) {
    if (row.kind == ChangeKind::kEventPublished &&
        row.event.type == EventType::kAutoChurned) {
      churns.insert(row.event.uuid);
    }
  }
  ASSERT_EQ(churns.size(), 3u);

  const int64_t mark = LastSequence();
  ASSERT_OK_AND_ASSIGN(
      const Store::SettingsUpdate update,
      store_->UpdateSettings(source.uuid, SaveSettings(kKeep, Day(2025, 6, 2)),
                             false, Day(2025, 6, 2)));
  EXPECT_EQ(update.impact.auto_churns_reversed, 3);
  const std::vector<ChangeRow> rows = RowsAfter(mark);
  std::set<std::string> retracted;
  int status_rows = 0;
  int source_rows = 0;
  for (const ChangeRow& row : rows) {
    if (row.kind == ChangeKind::kEventRetracted) {
      EXPECT_EQ(row.event.type, EventType::kAutoChurned);
      retracted.insert(row.event.uuid);
    }
    if (row.kind == ChangeKind::kEventPublished) {
      ADD_FAILURE() << "published " << engine::EventTypeName(row.event.type);
    }
    if (row.kind == ChangeKind::kCustomerStatusChanged) {
      ++status_rows;
      EXPECT_EQ(row.previous_status, CustomerStatus::kCancelled);
      EXPECT_EQ(row.status, CustomerStatus::kPastDue);
    }
    if (row.kind == ChangeKind::kSourceChanged) {
      ++source_rows;
      EXPECT_EQ(row.data_source_uuid, source.uuid);
    }
  }
  EXPECT_EQ(retracted, churns);
  EXPECT_EQ(status_rows, 3);
  EXPECT_EQ(source_rows, 1);
  ExpectLogReplaysTo(Day(2025, 6, 2));

  // And back: the churns are published again, with their old uuids.
  const int64_t again = LastSequence();
  ASSERT_OK(store_->UpdateSettings(source.uuid,
                                   SaveSettings(AutoChurn(14), Day(2025, 1, 1)),
                                   false, Day(2025, 6, 3)));
  std::set<std::string> republished;
  for (const ChangeRow& row : RowsAfter(again)) {
    if (row.kind == ChangeKind::kEventPublished) {
      republished.insert(row.event.uuid);
    }
  }
  EXPECT_EQ(republished, churns);
  ExpectLogReplaysTo(Day(2025, 6, 3));
}

TEST_P(ChangeLogTest, ReSendingIdenticalDataAppendsNothing) {
  const DataSource source = Source(14);
  const Customer customer = NewCustomer(source.uuid, "c");
  const std::vector<Invoice> invoices = Monthly("c", "s", kJan, 3, {1});
  ASSERT_OK_AND_ASSIGN(
      const std::vector<Invoice> stored,
      store_->ImportInvoices(customer.uuid, invoices, Day(2025, 2, 10)));
  // The same import again, at the same instant.
  int64_t mark = LastSequence();
  ASSERT_OK(store_->ImportInvoices(customer.uuid, invoices, Day(2025, 2, 10)));
  EXPECT_THAT(RowsAfter(mark), IsEmpty());

  ASSERT_OK(store_->AddTransaction(
      stored[1].uuid, Payment("p", Day(2025, 2, 12)), Day(2025, 2, 12)));
  mark = LastSequence();
  ASSERT_OK(store_->AddTransaction(
      stored[1].uuid, Payment("p", Day(2025, 2, 12)), Day(2025, 2, 12)));
  EXPECT_THAT(RowsAfter(mark), IsEmpty());

  ASSERT_OK_AND_ASSIGN(const CustomerSnapshot snapshot,
                       Snapshot(customer.uuid));
  const std::string sub = snapshot.subscriptions.at(0).uuid;
  ASSERT_OK(
      store_->CancelSubscription(sub, Day(2025, 2, 20), Day(2025, 2, 20)));
  mark = LastSequence();
  ASSERT_OK(
      store_->CancelSubscription(sub, Day(2025, 2, 20), Day(2025, 2, 20)));
  EXPECT_THAT(RowsAfter(mark), IsEmpty());
  ExpectLogReplaysTo(Day(2025, 2, 20));
}

TEST_P(ChangeLogTest, ALatePaymentRetractsTheChurnItRemoves) {
  const DataSource source = Source(14);
  const Customer customer = NewCustomer(source.uuid, "c");
  ASSERT_OK_AND_ASSIGN(
      const std::vector<Invoice> stored,
      store_->ImportInvoices(customer.uuid, Monthly("c", "s", kJan, 2, {1}),
                             Day(2025, 3, 1)));
  std::string churn;
  for (const ChangeRow& row : RowsAfter(0)) {
    if (row.event.type == EventType::kAutoChurned &&
        row.kind == ChangeKind::kEventPublished) {
      churn = row.event.uuid;
    }
  }
  ASSERT_FALSE(churn.empty());
  const int64_t mark = LastSequence();
  // Paid on Feb 10, before the churn would have happened (R6 a).
  ASSERT_OK(store_->AddTransaction(
      stored[1].uuid, Payment("late", Day(2025, 2, 10)), Day(2025, 3, 2)));
  bool retracted = false;
  for (const ChangeRow& row : RowsAfter(mark)) {
    if (row.kind == ChangeKind::kEventRetracted && row.event.uuid == churn) {
      retracted = true;
    }
  }
  EXPECT_TRUE(retracted);
  ExpectLogReplaysTo(Day(2025, 3, 2));
}

TEST_P(ChangeLogTest, DeletesAndMergesRetractWhatDisappears) {
  const DataSource s = Source(14);
  const DataSource t = NewSource("T");
  const Customer a = NewCustomer(s.uuid, "a");
  const Customer b = NewCustomer(t.uuid, "b");
  const Customer c = NewCustomer(s.uuid, "c");
  ASSERT_OK_AND_ASSIGN(
      const std::vector<Invoice> a_invoices,
      store_->ImportInvoices(a.uuid, Monthly("a", "sa", kJan, 3, {1}),
                             Day(2025, 4, 1)));
  ASSERT_OK(store_->ImportInvoices(b.uuid, Monthly("b", "sb", kJan, 2),
                                   Day(2025, 4, 1)));
  ASSERT_OK(store_->ImportInvoices(c.uuid, Monthly("c", "sc", kJan, 2),
                                   Day(2025, 4, 1)));
  const std::vector<std::string> all = {a.uuid, b.uuid, c.uuid};
  ExpectLogReplaysTo(Day(2025, 4, 1));

  // Deleting the unpaid invoice removes the past due and the churn.
  ASSERT_OK(store_->DeleteInvoice(a_invoices[1].uuid, Day(2025, 4, 2)));
  ExpectLogReplaysTo(Day(2025, 4, 2));
  // b merged into a: b's events are retracted under b, published under a.
  ASSERT_OK(store_->MergeCustomers(b.uuid, a.uuid, Day(2025, 4, 3)));
  ExpectLogReplaysTo(Day(2025, 4, 3));
  // A deleted customer's events are retracted.
  ASSERT_OK(store_->DeleteCustomer(c.uuid, Day(2025, 4, 4)));
  ExpectLogReplaysTo(Day(2025, 4, 4));
  // Deleting T: a loses sb's events.
  ASSERT_OK(store_->DeleteDataSource(t.uuid, Day(2025, 4, 5)));
  ExpectLogReplaysTo(Day(2025, 4, 5));
  // Deleting the only invoice of a subscription retracts its events too.
  InvoiceFilter of_a;
  of_a.customer_uuid = a.uuid;
  ASSERT_OK_AND_ASSIGN(const Page<Invoice> left,
                       store_->ListInvoices(of_a, {100, ""}));
  for (const Invoice& invoice : left.items) {
    ASSERT_OK(store_->DeleteInvoice(invoice.uuid, Day(2025, 4, 6)));
  }
  ExpectLogReplaysTo(Day(2025, 4, 6));
  ASSERT_OK_AND_ASSIGN(const Customer after, store_->GetCustomer(a.uuid));
  EXPECT_EQ(after.status, CustomerStatus::kLead);
}

TEST_P(ChangeLogTest, DeletingASourceRetractsItsCustomersAndRecomputesMerged) {
  // T's own customers go whole (their retractions are appended while the
  // source is scanned); one merged with a customer of S stays and loses
  // only T's subscription.
  const DataSource s = Source(14);
  const DataSource t = NewSource("T");
  const Customer kept = NewCustomer(s.uuid, "kept");
  const Customer moved = NewCustomer(t.uuid, "moved");
  ASSERT_OK(store_->ImportInvoices(kept.uuid, Monthly("k", "sk", kJan, 2),
                                   Day(2025, 4, 1)));
  ASSERT_OK(store_->ImportInvoices(moved.uuid, Monthly("m", "sm", kJan, 3),
                                   Day(2025, 4, 1)));
  ASSERT_OK(store_->MergeCustomers(moved.uuid, kept.uuid, Day(2025, 4, 1)));
  std::vector<std::string> own;
  for (int i = 0; i < 5; ++i) {
    const Customer c = NewCustomer(t.uuid, absl::StrCat("own", i));
    // Every second one leaves February unpaid: past due since then (T
    // keeps it so), with one more event to retract.
    ASSERT_OK(store_->ImportInvoices(
        c.uuid,
        Monthly(absl::StrCat("o", i), absl::StrCat("so", i), kJan, 3,
                i % 2 == 0 ? std::set<int>{1} : std::set<int>{}),
        Day(2025, 4, 1)));
    own.push_back(c.uuid);
  }
  ExpectLogReplaysTo(Day(2025, 4, 1));
  const int64_t mark = LastSequence();
  ASSERT_OK(store_->DeleteDataSource(t.uuid, Day(2025, 4, 2)));
  ExpectLogReplaysTo(Day(2025, 4, 2));
  // Each own customer's events were retracted, none published again.
  for (const std::string& uuid : own) {
    SCOPED_TRACE(uuid);
    bool retracted = false;
    for (const ChangeRow& row : RowsAfter(mark)) {
      if (row.customer_uuid != uuid) continue;
      EXPECT_EQ(row.kind, ChangeKind::kEventRetracted);
      retracted = true;
    }
    EXPECT_TRUE(retracted);
  }
  ASSERT_OK_AND_ASSIGN(const Customer after, store_->GetCustomer(kept.uuid));
  EXPECT_EQ(after.external_ids.size(), 1u);
}

TEST_P(ChangeLogTest, InputChangesAreLoggedForCaches) {
  const DataSource s = NewSource("S");
  const Customer a = NewCustomer(s.uuid, "a");
  const auto changed = [&](int64_t after) {
    std::vector<std::pair<ChangeKind, std::string>> out;
    for (const ChangeRow& row : RowsAfter(after)) {
      if (row.kind == ChangeKind::kCustomerChanged ||
          row.kind == ChangeKind::kSourceChanged) {
        out.emplace_back(row.kind, row.kind == ChangeKind::kSourceChanged
                                       ? row.data_source_uuid
                                       : row.customer_uuid);
      }
    }
    return out;
  };
  int64_t mark = LastSequence();
  ASSERT_OK(store_->UpdateCustomer(
      a.uuid,
      [](Customer& c) {
        c.name = "A";
        return absl::OkStatus();
      },
      Tick()));
  ASSERT_OK(store_->AddCustomerTags(a.uuid, {"x"}, Tick()));
  ASSERT_OK(store_->RemoveCustomerTags(a.uuid, {"x"}, Tick()));
  EXPECT_THAT(changed(mark),
              ElementsAre(Pair(ChangeKind::kCustomerChanged, a.uuid),
                          Pair(ChangeKind::kCustomerChanged, a.uuid),
                          Pair(ChangeKind::kCustomerChanged, a.uuid)));
  mark = LastSequence();
  ASSERT_OK(store_->UpdateSettings(s.uuid, SaveSettings(AutoChurn(7), Tick()),
                                   false, Tick()));
  EXPECT_THAT(changed(mark),
              ElementsAre(Pair(ChangeKind::kSourceChanged, s.uuid)));
  // A dry run, a settings "change" to what is in force and a failed write
  // log nothing.
  mark = LastSequence();
  ASSERT_OK(store_->UpdateSettings(s.uuid, SaveSettings(kKeep, Tick()), true,
                                   Tick()));
  ASSERT_OK(store_->UpdateSettings(
      s.uuid,
      [](const SourceSettings&) -> absl::StatusOr<std::optional<NewSettings>> {
        return std::nullopt;
      },
      false, Tick()));
  EXPECT_FALSE(store_->AddCustomerTags("cus_nope", {"x"}, Tick()).ok());
  EXPECT_THAT(RowsAfter(mark), IsEmpty());
}

TEST_P(ChangeLogTest, AnEditThatChangesNothingWritesNothing) {
  const DataSource s = NewSource("S");
  const Customer a = NewCustomer(s.uuid, "a");
  const absl::Time tagged_at = Tick();
  ASSERT_OK(store_->AddCustomerTags(a.uuid, {"vip"}, tagged_at));
  const auto rename = [](Customer& c) {
    c.name = "A";
    return absl::OkStatus();
  };
  const absl::Time renamed_at = Tick();
  ASSERT_OK(store_->UpdateCustomer(a.uuid, rename, renamed_at));
  const int64_t mark = LastSequence();
  // A tag it has, a tag it has not, the name it has.
  ASSERT_OK_AND_ASSIGN(const Customer again,
                       store_->AddCustomerTags(a.uuid, {"vip"}, Tick()));
  EXPECT_THAT(again.tags, ElementsAre("vip"));
  ASSERT_OK(store_->RemoveCustomerTags(a.uuid, {"absent"}, Tick()));
  ASSERT_OK_AND_ASSIGN(const Customer same,
                       store_->UpdateCustomer(a.uuid, rename, Tick()));
  EXPECT_EQ(same.name, "A");
  EXPECT_THAT(RowsAfter(mark), IsEmpty());
  ASSERT_OK_AND_ASSIGN(const Customer stored, store_->GetCustomer(a.uuid));
  EXPECT_EQ(stored.updated_at, renamed_at);
}

TEST_P(ChangeLogTest, PruningDropsOnlyRowsPastRetentionAndSequencesGoOn) {
  const DataSource s = NewSource("S");
  // A customer created and tagged each day from 2025-01-01.
  const auto day_of_writes = [&](int day) {
    Customer customer;
    customer.data_source_uuid = s.uuid;
    customer.external_id = absl::StrCat("c", day);
    absl::StatusOr<Customer> created =
        store_->CreateCustomer(customer, Day(2025, 1, day));
    ASSERT_OK(created);
    ASSERT_OK(store_->AddCustomerTags(created->uuid, {"t"}, Day(2025, 1, day)));
  };
  for (int day = 1; day <= 5; ++day) day_of_writes(day);
  const std::vector<ChangeRow> all = RowsAfter(0);
  ASSERT_OK_AND_ASSIGN(const int64_t pruned,
                       store_->PruneChanges(Day(2025, 1, 3)));
  EXPECT_EQ(pruned, 4);  // two rows of each of the first two days
  const std::vector<ChangeRow> kept = RowsAfter(0);
  EXPECT_EQ(kept.size() + pruned, all.size());
  for (const ChangeRow& row : kept) {
    EXPECT_GE(row.committed_at, Day(2025, 1, 3));
  }
  // Sequences never go back, not even after pruning and reopening.
  Reopen();
  day_of_writes(6);
  EXPECT_GT(RowsAfter(0).back().sequence, all.back().sequence);

  // A server shutting down stops the pruner before its next batch.
  const size_t before_stopped = RowsAfter(0).size();
  ASSERT_OK_AND_ASSIGN(
      const int64_t stopped,
      store_->PruneChanges(Day(2025, 1, 7), [] { return true; }));
  EXPECT_EQ(stopped, 0);
  EXPECT_EQ(RowsAfter(0).size(), before_stopped);
}

// A log pruned to nothing (no write for longer than the retention): a
// listing from an empty cursor returns a cursor at the log's end, which the
// next listing accepts. (It returned the cursor before the first sequence,
// which was then refused as expired, again and again.)
TEST_P(ChangeLogTest, AnEmptyCursorOnAFullyPrunedLogGivesAValidCursor) {
  const DataSource s = NewSource("S");
  NewCustomer(s.uuid, "c0");
  const std::vector<ChangeRow> all = RowsAfter(0);
  ASSERT_FALSE(all.empty());
  ASSERT_OK_AND_ASSIGN(const int64_t pruned,
                       store_->PruneChanges(Day(2030, 1, 1)));
  EXPECT_EQ(pruned, static_cast<int64_t>(all.size()));
  ASSERT_OK_AND_ASSIGN(const Store::ChangesPage first,
                       store_->ListChanges({}, std::nullopt, 10));
  EXPECT_TRUE(first.rows.empty());
  EXPECT_EQ(first.scanned_to.sequence, all.back().sequence);
  ASSERT_OK_AND_ASSIGN(const Store::ChangesPage next,
                       store_->ListChanges({}, first.scanned_to, 10));
  EXPECT_TRUE(next.rows.empty());
  EXPECT_EQ(next.scanned_to.sequence, first.scanned_to.sequence);
}

// Each listed change comes with the place just before it: the row examined
// before it, or where the listing began. A watch that ends before sending a
// change tells its client to resume there, past what its filter skipped.
TEST_P(ChangeLogTest, EachListedChangeComesWithThePlaceBeforeIt) {
  const DataSource s = Source(0);
  const Customer a = NewCustomer(s.uuid, "a");
  const Customer b = NewCustomer(s.uuid, "b");
  const int64_t start = LastSequence();
  // a's rows, then b's, then a's again.
  ASSERT_OK(store_->ImportInvoices(a.uuid, Monthly("a1", "s1", kJan, 2, {1}),
                                   Day(2025, 2, 10)));
  ASSERT_OK(store_->ImportInvoices(b.uuid, Monthly("b1", "s2", kJan, 2, {1}),
                                   Day(2025, 2, 10)));
  ASSERT_OK(store_->ImportInvoices(a.uuid, Monthly("a2", "s3", kJan, 2),
                                   Day(2025, 2, 10)));
  const std::vector<ChangeRow> all = RowsAfter(start);
  Store::ChangeFilter filter;
  filter.customer_uuid = a.uuid;
  const Store::ChangePosition after = Store::PositionOf(all.front());
  ASSERT_OK_AND_ASSIGN(const Store::ChangesPage page,
                       store_->ListChanges(filter, after, 100));
  ASSERT_GE(page.rows.size(), 2u);
  ASSERT_EQ(page.preceding.size(), page.rows.size());
  for (size_t i = 0; i < page.rows.size(); ++i) {
    // The row examined just before rows[i] in the whole log.
    auto it = std::find_if(all.begin(), all.end(), [&](const ChangeRow& row) {
      return row.sequence == page.rows[i].sequence;
    });
    ASSERT_NE(it, all.end());
    ASSERT_NE(it, all.begin());
    const Store::ChangePosition expected = Store::PositionOf(*(it - 1));
    EXPECT_EQ(page.preceding[i].sequence, expected.sequence) << i;
    EXPECT_EQ(page.preceding[i].check, expected.check) << i;
  }
  // b's rows lie between two of a's: the place before the later one is
  // past them.
  bool skipped = false;
  for (size_t i = 1; i < page.rows.size(); ++i) {
    skipped |= page.preceding[i].sequence > page.rows[i - 1].sequence;
  }
  EXPECT_TRUE(skipped);
}

// Stop() ends a round of the re-evaluator between its batches, so that a
// server shutting down does not first work through a backlog of due
// customers (statements slowed down here so that the backlog takes
// seconds); the customers it did not reach stay due.
TEST_P(ChangeLogTest, StoppingTheReevaluatorEndsItsRoundBetweenBatches) {
  const DataSource s = Source(14);
  constexpr int kDue = 6;
  for (int i = 0; i < kDue; ++i) {
    const Customer customer = NewCustomer(s.uuid, absl::StrCat("c", i));
    // February unpaid: churns on Feb 15.
    ASSERT_OK(store_->ImportInvoices(
        customer.uuid,
        Monthly(customer.external_id, "s-" + customer.external_id, kJan, 3,
                {1}),
        Day(2025, 2, 10)));
  }
  ::recurrent::testing::FaultyBackend slow(backend_.get());
  Store store(&slow, Store::Options(), nullptr);
  common::FakeClock clock(Day(2025, 3, 1));
  Reevaluator reevaluator(&store, &clock,
                          Reevaluator::Options{absl::Milliseconds(1), 1});
  slow.Delay(absl::Milliseconds(20));
  const int64_t before = slow.statements();
  reevaluator.Start();
  while (slow.statements() == before) absl::SleepFor(absl::Milliseconds(1));
  reevaluator.Stop();  // during the round's first batch
  slow.Delay(absl::ZeroDuration());
  ASSERT_OK_AND_ASSIGN(const int rest, reevaluator.RunOnce());
  EXPECT_GE(rest, kDue - 2) << "the stopped round went on through the backlog";
  EXPECT_LT(rest, kDue) << "the round stopped before its first batch";
}

}  // namespace
}  // namespace recurrent::core::testing
