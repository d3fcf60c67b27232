// Store tests (every backend): stored evaluations (statuses, events, derived
// tags, next_transition_at) follow every write and the re-evaluator (issue 4).
#include "engine/evaluation.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "core/event_ids.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;
using EventType = ::recurrent::engine::EventType;

EventFilter EventsOf(const std::string& customer_uuid,
                     absl::Time as_of = absl::InfiniteFuture()) {
  EventFilter filter;
  filter.customer_uuid = customer_uuid;
  filter.as_of = as_of;
  return filter;
}

// (type, occurred_at) of each event, in order.
std::vector<std::pair<EventType, absl::Time>> Kinds(
    const std::vector<SubscriptionEvent>& events) {
  std::vector<std::pair<EventType, absl::Time>> out;
  for (const SubscriptionEvent& event : events) {
    out.emplace_back(event.type, event.occurred_at);
  }
  return out;
}

std::vector<std::string> Uuids(const std::vector<SubscriptionEvent>& events) {
  std::vector<std::string> out;
  for (const SubscriptionEvent& event : events) out.push_back(event.uuid);
  return out;
}

CustomerFilter ByStatus(CustomerStatus status) {
  CustomerFilter filter;
  filter.status = status;
  return filter;
}

// ReevaluateDueCustomers' count, or -1 on error.
int RecomputeDue(Store& storage, absl::Time now, int limit) {
  absl::StatusOr<int> count = storage.ReevaluateDueCustomers(now, limit);
  EXPECT_OK(count);
  return count.ok() ? *count : -1;
}

// January, due Jan 15, unpaid; imported on Jan 10.
TEST_P(StoreTest, StoredStatusFollowsTimeAndPayments) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  ASSERT_OK_AND_ASSIGN(std::vector<Invoice> stored,
                       store_->ImportInvoices(
                           customer.uuid,
                           {MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                           Day(2025, 2, 1), Day(2025, 1, 15))},
                           Day(2025, 1, 10)));
  ASSERT_OK_AND_ASSIGN(Customer now, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(now.status, CustomerStatus::kActive);
  EXPECT_THAT(now.derived_tags, IsEmpty());
  EXPECT_THAT(ListUuids(ByStatus(CustomerStatus::kActive)),
              ElementsAre(customer.uuid));

  // Every event of the timeline is stored, the future PAST_DUE included.
  const std::vector<SubscriptionEvent> all =
      ListAllEvents(EventsOf(customer.uuid));
  EXPECT_THAT(Kinds(all),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 1, 15))));
  ASSERT_THAT(all, SizeIs(2));
  EXPECT_TRUE(common::HasIdShape(all[0].uuid, common::kEventIdPrefix))
      << all[0].uuid;
  EXPECT_EQ(all[0].subscription.customer_uuid, customer.uuid);
  EXPECT_EQ(all[0].subscription.data_source_uuid, source.uuid);
  EXPECT_EQ(all[0].subscription.external_id, "SUB-1");
  ASSERT_OK_AND_ASSIGN(SubscriptionRef ref,
                       store_->GetSubscription(all[0].subscription.uuid));
  EXPECT_EQ(ref.external_id, "SUB-1");
  EXPECT_EQ(ref.customer_uuid, customer.uuid);
  // as_of filters by occurred_at <= as_of.
  EXPECT_THAT(Kinds(ListAllEvents(EventsOf(customer.uuid, Day(2025, 1, 10)))),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1))));
  EXPECT_THAT(ListAllEvents(EventsOf(customer.uuid, Day(2025, 1, 15))),
              SizeIs(2));
  EXPECT_THAT(ListAllEvents(
                  EventsOf(customer.uuid, Day(2025, 1, 1) - absl::Seconds(1))),
              IsEmpty());

  // Nothing is due before Jan 15; at Jan 15 the re-evaluator moves it.
  EXPECT_EQ(RecomputeDue(*store_, Day(2025, 1, 15) - absl::Seconds(1), 100), 0);
  ASSERT_OK_AND_ASSIGN(Customer still, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(still.status, CustomerStatus::kActive);
  ASSERT_OK_AND_ASSIGN(const int recomputed,
                       store_->ReevaluateDueCustomers(Day(2025, 1, 15), 100));
  EXPECT_EQ(recomputed, 1);
  ASSERT_OK_AND_ASSIGN(Customer due, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(due.status, CustomerStatus::kPastDue);
  EXPECT_THAT(ListUuids(ByStatus(CustomerStatus::kPastDue)),
              ElementsAre(customer.uuid));
  EXPECT_THAT(ListUuids(ByStatus(CustomerStatus::kActive)), IsEmpty());
  // Its next transition is the renewal signal at Feb 1, not yet due.
  EXPECT_EQ(RecomputeDue(*store_, Day(2025, 1, 20), 100), 0);
  // Unchanged events keep their uuids.
  EXPECT_EQ(Uuids(ListAllEvents(EventsOf(customer.uuid))), Uuids(all));

  // A payment on Jan 20 recovers it.
  ASSERT_OK(store_->AddTransaction(
      stored[0].uuid, Payment("TR-1", Day(2025, 1, 20)), Day(2025, 1, 21)));
  ASSERT_OK_AND_ASSIGN(Customer paid, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(paid.status, CustomerStatus::kActive);
  // The renewal signal at Feb 1 (no next period) is projected too.
  EXPECT_THAT(Kinds(ListAllEvents(EventsOf(customer.uuid))),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 1, 15)),
                          Pair(EventType::kRecovered, Day(2025, 1, 20)),
                          Pair(EventType::kPastDue, Day(2025, 2, 1))));
}

TEST_P(StoreTest, StoredSubscriptionEvaluationIsInTheSnapshot) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  Invoice invoice = MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                   Day(2025, 2, 1), Day(2025, 1, 15));
  invoice.transactions.push_back(Payment("TR-1", Day(2025, 1, 3)));
  ASSERT_OK(store_->ImportInvoices(customer.uuid, {invoice}, Tick()));
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(customer.uuid));
  EXPECT_EQ(snapshot.customer.uuid, customer.uuid);
  ASSERT_THAT(snapshot.facts.invoices, SizeIs(1));
  const engine::Invoice& facts = snapshot.facts.invoices[0];
  EXPECT_EQ(facts.data_source_uuid, source.uuid);
  EXPECT_EQ(facts.external_id, "INV-1");
  EXPECT_EQ(facts.currency, "EUR");
  EXPECT_EQ(facts.due_date, Day(2025, 1, 15));
  ASSERT_THAT(facts.line_items, SizeIs(1));
  EXPECT_EQ(facts.line_items[0].subscription_external_id, "SUB-1");
  EXPECT_EQ(facts.line_items[0].service_period_start, Day(2025, 1, 1));
  EXPECT_EQ(facts.line_items[0].amount_in_cents, 4900);
  ASSERT_THAT(facts.transactions, SizeIs(1));
  EXPECT_EQ(facts.transactions[0].date, Day(2025, 1, 3));
  EXPECT_THAT(snapshot.facts.cancellations, IsEmpty());
  ASSERT_THAT(snapshot.subscriptions, SizeIs(1));
  EXPECT_TRUE(common::HasIdShape(snapshot.subscriptions[0].uuid,
                                 common::kSubscriptionIdPrefix));
  EXPECT_EQ(snapshot.subscriptions[0].data_source_uuid, source.uuid);
  ASSERT_TRUE(snapshot.settings.contains(source.uuid));
  EXPECT_EQ(snapshot.settings.at(source.uuid).mode, PastDueMode::kKeep);
  EXPECT_EQ(snapshot.settings.at(source.uuid).applied_at,
            source.settings.applied_at);
  EXPECT_THAT(Snapshot("cus_nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, AutoChurnSetsTheDerivedTag) {
  const DataSource source = NewSource("s");
  ASSERT_OK(store_->UpdateSettings(
      source.uuid,
      [](const SourceSettings&) -> absl::StatusOr<std::optional<NewSettings>> {
        NewSettings next;
        next.past_due_handling = {PastDueMode::kAutoChurn, 14};
        next.applied_at = Day(2024, 1, 1);
        return next;
      },
      /*dry_run=*/false, Tick()));
  const Customer customer = NewCustomer(source.uuid, "c-1");
  ASSERT_OK(
      store_->ImportInvoices(customer.uuid,
                             {MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                             Day(2025, 2, 1), Day(2025, 2, 1))},
                             Day(2025, 1, 10)));
  ASSERT_OK_AND_ASSIGN(Customer before, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(before.status, CustomerStatus::kActive);
  EXPECT_THAT(before.derived_tags, IsEmpty());
  // The worked example: past due Feb 1, auto-churned Feb 15.
  EXPECT_THAT(Kinds(ListAllEvents(EventsOf(customer.uuid))),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 2, 1)),
                          Pair(EventType::kAutoChurned, Day(2025, 2, 15))));
  ASSERT_OK(store_->ReevaluateDueCustomers(Day(2025, 2, 1), 10));
  ASSERT_OK(store_->ReevaluateDueCustomers(Day(2025, 2, 15), 10));
  ASSERT_OK_AND_ASSIGN(Customer churned, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(churned.status, CustomerStatus::kCancelled);
  EXPECT_THAT(churned.derived_tags,
              ElementsAre(std::string(engine::kAutoChurnedTag)));
  EXPECT_THAT(churned.tags, IsEmpty());  // user tags are separate
  EXPECT_THAT(ListAll(ByStatus(CustomerStatus::kCancelled)),
              ElementsAre(::testing::Field(
                  &Customer::derived_tags,
                  ElementsAre(std::string(engine::kAutoChurnedTag)))));
}

TEST_P(StoreTest, CancelSubscriptionRecordsAnExplicitCancel) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  Invoice invoice = MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                   Day(2025, 2, 1), std::nullopt);
  ASSERT_OK(store_->ImportInvoices(customer.uuid, {invoice}, Day(2025, 1, 2)));
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(customer.uuid));
  const std::string subscription = snapshot.subscriptions.at(0).uuid;
  ASSERT_OK(store_->CancelSubscription(subscription, Day(2025, 1, 10),
                                       Day(2025, 1, 11)));
  // Retrying is harmless.
  ASSERT_OK(store_->CancelSubscription(subscription, Day(2025, 1, 10),
                                       Day(2025, 1, 11)));
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(got.status, CustomerStatus::kCancelled);
  EXPECT_THAT(Kinds(ListAllEvents(EventsOf(customer.uuid))),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kCancelled, Day(2025, 1, 10))));
  ASSERT_OK_AND_ASSIGN(snapshot, Snapshot(customer.uuid));
  ASSERT_THAT(snapshot.facts.cancellations, SizeIs(1));
  EXPECT_EQ(snapshot.facts.cancellations[0].cancelled_at, Day(2025, 1, 10));
  EXPECT_EQ(snapshot.facts.cancellations[0].subscription_external_id, "SUB-1");
  EXPECT_THAT(store_->CancelSubscription("sub_nope", Tick(), Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetSubscription("sub_nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

// An event that leads where its type usually does keeps the uuid derived
// from (subscription, type, instant, ordinal) before events carried
// status_after, so stored and published uuids survive the migration; one
// that leads elsewhere (STARTED straight into PAST_DUE) is another event.
TEST(EventUuidTest, StatusAfterIsPartOfTheIdentityOnlyWhereItIsUnusual) {
  const absl::Time at = absl::FromUnixMicros(1'735'689'600'000'001);
  using engine::SubscriptionStatus;
  EXPECT_EQ(EventUuid("sub_1", EventType::kStarted, SubscriptionStatus::kActive,
                      at, 0),
            common::DerivedId(common::kEventIdPrefix,
                              "sub_1/1/1735689600000001/0"));
  EXPECT_EQ(EventUuid("sub_1", EventType::kAutoChurned,
                      SubscriptionStatus::kCancelled, at, 2),
            common::DerivedId(common::kEventIdPrefix,
                              "sub_1/5/1735689600000001/2"));
  const std::string past_due = EventUuid("sub_1", EventType::kStarted,
                                         SubscriptionStatus::kPastDue, at, 0);
  EXPECT_NE(past_due, EventUuid("sub_1", EventType::kStarted,
                                SubscriptionStatus::kActive, at, 0));
  EXPECT_EQ(past_due, EventUuid("sub_1", EventType::kStarted,
                                SubscriptionStatus::kPastDue, at, 0));
  EXPECT_NE(EventUuid("sub_1", EventType::kReactivated,
                      SubscriptionStatus::kPastDue, at, 0),
            EventUuid("sub_1", EventType::kReactivated,
                      SubscriptionStatus::kActive, at, 0));
}

TEST_P(StoreTest, EventUuidsAreStableAcrossUnrelatedWrites) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  ASSERT_OK(store_->ImportInvoices(
      customer.uuid,
      {MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1), Day(2025, 2, 1),
                      Day(2025, 1, 15))},
      Day(2025, 1, 2)));
  const std::vector<SubscriptionEvent> before =
      ListAllEvents(EventsOf(customer.uuid));
  // STARTED, PAST_DUE; the renewal signal of Feb 1 changes nothing (R9).
  ASSERT_THAT(before, SizeIs(2));
  ASSERT_OK(
      store_->ImportInvoices(customer.uuid,
                             {MonthlyInvoice("INV-2", "SUB-2", Day(2025, 1, 5),
                                             Day(2025, 2, 5), std::nullopt)},
                             Day(2025, 1, 6)));
  const std::vector<SubscriptionEvent> after =
      ListAllEvents(EventsOf(customer.uuid));
  EXPECT_THAT(Uuids(after), IsSupersetOf(Uuids(before)));
  // SUB-2: STARTED on Jan 5, PAST_DUE at its renewal on Feb 5.
  EXPECT_THAT(after, SizeIs(before.size() + 2));
}

TEST_P(StoreTest, ListSubscriptionEventsPagesInTimeOrder) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer c1 = NewCustomer(a.uuid, "c-1");
  const Customer c2 = NewCustomer(a.uuid, "c-2");
  const Customer c3 = NewCustomer(b.uuid, "c-3");
  int day = 1;
  for (const Customer* customer : {&c1, &c2, &c3, &c1}) {
    const std::string sub = absl::StrCat("SUB-", day);
    ASSERT_OK(store_->ImportInvoices(
        customer->uuid,
        {MonthlyInvoice(absl::StrCat("INV-", day), sub, Day(2025, 1, day),
                        Day(2025, 2, day), Day(2025, 1, day + 10))},
        Day(2025, 1, 1)));
    ++day;
  }
  EventFilter by_source;
  by_source.data_source_uuid = a.uuid;
  const std::vector<SubscriptionEvent> whole = ListAllEvents(by_source);
  // 3 subscriptions x (STARTED, PAST_DUE).
  EXPECT_THAT(whole, SizeIs(6));
  for (size_t i = 1; i < whole.size(); ++i) {
    EXPECT_LE(whole[i - 1].occurred_at, whole[i].occurred_at);
  }
  EXPECT_EQ(Uuids(ListAllEvents(by_source, 1)), Uuids(whole));
  EXPECT_EQ(Uuids(ListAllEvents(by_source, 4)), Uuids(whole));
  EXPECT_THAT(ListAllEvents(EventsOf(c1.uuid), 3), SizeIs(4));
  EventFilter both = EventsOf(c1.uuid);
  both.data_source_uuid = b.uuid;
  EXPECT_THAT(ListAllEvents(both), IsEmpty());
  EventFilter c3_in_b = EventsOf(c3.uuid);
  c3_in_b.data_source_uuid = b.uuid;
  EXPECT_THAT(ListAllEvents(c3_in_b, 1), SizeIs(2));

  PageRequest page;
  EXPECT_THAT(store_->ListSubscriptionEvents(EventsOf("cus_nope"), page),
              StatusIs(absl::StatusCode::kNotFound));
  EventFilter unknown_source;
  unknown_source.data_source_uuid = "ds_nope";
  EXPECT_THAT(store_->ListSubscriptionEvents(unknown_source, page),
              StatusIs(absl::StatusCode::kNotFound));
  page.page_token = "garbage";
  EXPECT_THAT(store_->ListSubscriptionEvents(by_source, page),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(StoreTest, MergeMovesInvoicesAndSubscriptionsAndRecomputes) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer into = NewCustomer(a.uuid, "a-1");
  const Customer from = NewCustomer(b.uuid, "b-1");
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> stored,
      store_->ImportInvoices(from.uuid,
                             {MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                             Day(2025, 2, 1), std::nullopt)},
                             Day(2025, 1, 2)));
  ASSERT_OK_AND_ASSIGN(Customer lead, store_->GetCustomer(into.uuid));
  EXPECT_EQ(lead.status, CustomerStatus::kLead);

  ASSERT_OK_AND_ASSIGN(
      Customer merged,
      store_->MergeCustomers(from.uuid, into.uuid, Day(2025, 1, 3)));
  EXPECT_EQ(merged.status, CustomerStatus::kActive);
  InvoiceFilter of_into;
  of_into.customer_uuid = into.uuid;
  const std::vector<Invoice> invoices = ListAllInvoices(of_into);
  ASSERT_THAT(invoices, SizeIs(1));
  EXPECT_EQ(invoices[0].uuid, stored[0].uuid);
  EXPECT_EQ(invoices[0].customer_uuid, into.uuid);
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(into.uuid));
  ASSERT_THAT(snapshot.subscriptions, SizeIs(1));
  EXPECT_EQ(snapshot.subscriptions[0].customer_uuid, into.uuid);
  EXPECT_THAT(snapshot.settings, SizeIs(2));  // both sources
  const std::vector<SubscriptionEvent> events =
      ListAllEvents(EventsOf(into.uuid));
  ASSERT_THAT(events, Not(IsEmpty()));
  EXPECT_EQ(events[0].subscription.customer_uuid, into.uuid);
  // Re-sending the invoice to the survivor is a no-op.
  Invoice resend = MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                  Day(2025, 2, 1), std::nullopt);
  resend.data_source_uuid = b.uuid;
  ASSERT_OK_AND_ASSIGN(std::vector<Invoice> again,
                       store_->ImportInvoices(into.uuid, {resend}, Tick()));
  EXPECT_EQ(again[0].uuid, stored[0].uuid);
}

TEST_P(StoreTest, DeleteDataSourceDropsItsFactsAndRecomputes) {
  const DataSource kept = NewSource("kept");
  const DataSource doomed = NewSource("doomed");
  const Customer customer = NewCustomer(kept.uuid, "k-1");
  const Customer other = NewCustomer(doomed.uuid, "d-1");
  ASSERT_OK(store_->MergeCustomers(other.uuid, customer.uuid, Tick()));
  Invoice paid = MonthlyInvoice("INV-K", "SUB-K", Day(2025, 1, 1),
                                Day(2025, 3, 1), Day(2025, 1, 5));
  paid.data_source_uuid = kept.uuid;
  paid.transactions.push_back(Payment("TR-K", Day(2025, 1, 2)));
  Invoice unpaid = MonthlyInvoice("INV-D", "SUB-D", Day(2025, 1, 1),
                                  Day(2025, 3, 1), Day(2025, 1, 5));
  unpaid.data_source_uuid = doomed.uuid;
  ASSERT_OK(
      store_->ImportInvoices(customer.uuid, {paid, unpaid}, Day(2025, 1, 10)));
  ASSERT_OK_AND_ASSIGN(Customer before, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(before.status, CustomerStatus::kPastDue);

  ASSERT_OK(store_->DeleteDataSource(doomed.uuid, Day(2025, 1, 11)));
  ASSERT_OK_AND_ASSIGN(Customer after, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(after.status, CustomerStatus::kActive);
  InvoiceFilter of_customer;
  of_customer.customer_uuid = customer.uuid;
  const std::vector<Invoice> invoices = ListAllInvoices(of_customer);
  ASSERT_THAT(invoices, SizeIs(1));
  EXPECT_EQ(invoices[0].external_id, "INV-K");
  for (const SubscriptionEvent& event :
       ListAllEvents(EventsOf(customer.uuid))) {
    EXPECT_EQ(event.subscription.external_id, "SUB-K");
  }
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(customer.uuid));
  ASSERT_THAT(snapshot.subscriptions, SizeIs(1));
  EXPECT_THAT(snapshot.settings, SizeIs(1));
}

TEST_P(StoreTest, ReevaluateDueCustomersHonoursTheLimit) {
  const DataSource source = NewSource("s");
  std::vector<std::string> customers;
  for (int i = 0; i < 3; ++i) {
    const Customer customer = NewCustomer(source.uuid, absl::StrCat("c-", i));
    customers.push_back(customer.uuid);
    ASSERT_OK(store_->ImportInvoices(
        customer.uuid,
        {MonthlyInvoice(absl::StrCat("INV-", i), absl::StrCat("SUB-", i),
                        Day(2025, 1, 1), Day(2025, 2, 1),
                        Day(2025, 1, 10 + i))},
        Day(2025, 1, 2)));
  }
  // Oldest first: the customer due on Jan 10, then Jan 11.
  EXPECT_EQ(RecomputeDue(*store_, Day(2025, 1, 20), 2), 2);
  EXPECT_THAT(ListUuids(ByStatus(CustomerStatus::kPastDue)),
              ElementsAre(customers[0], customers[1]));
  EXPECT_EQ(RecomputeDue(*store_, Day(2025, 1, 20), 2), 1);
  EXPECT_THAT(ListUuids(ByStatus(CustomerStatus::kPastDue)),
              UnorderedElementsAreArray(customers));
  EXPECT_EQ(RecomputeDue(*store_, Day(2025, 1, 20), 2), 0);
}

}  // namespace
}  // namespace recurrent::core::testing
