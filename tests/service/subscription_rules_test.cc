// The status rules of docs/semantics.md, end to end: invoices imported over
// gRPC into a real server and database, statuses and events read back over
// gRPC. One test (or more) per rule; names carry the rule number.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"
#include "tests/testing/change_log_checks.h"

namespace recurrent::service::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kTag[] = "auto-churned-delinquent-subscription";

class SubscriptionRulesTest : public ApiTest {
 protected:
  // Settings are saved at the test epoch (2025-01-01), before every fact;
  // reads and cancellations then happen "now" = 2026-01-01.
  void SetUp() override {}
  void MoveToLater() { server_.clock().Set(T("2026-01-01")); }

  // Every scenario ends with its change log checked: once the re-evaluator
  // has caught up with the clock, every status change and every event of
  // every customer appears in it exactly once, in commit order, and
  // replaying it gives ListSubscriptionEvents as of now. The same holds
  // through the public feed (ChangeFeedService.ListChanges).
  void TearDown() override {
    ASSERT_TRUE(server_.server().reevaluator().RunOnce().ok());
    EXPECT_EQ(::recurrent::testing::ChangeLogMismatches(
                  server_.server().store(), server_.clock().Now()),
              "");
    ExpectTheFeedReplaysToTheEvents();
  }

  void ExpectTheFeedReplaysToTheEvents() {
    auto feed = v1::ChangeFeedService::NewStub(server_.channel());
    std::map<std::string, std::set<std::string>> published;
    v1::ListChangesRequest request;
    request.set_page_size(1000);
    while (true) {
      v1::ListChangesResponse page;
      grpc::ClientContext context;
      grpc::Status status = feed->ListChanges(&context, request, &page);
      ASSERT_TRUE(status.ok()) << status.error_message();
      if (page.changes().empty()) break;
      for (const v1::Change& change : page.changes()) {
        std::set<std::string>& events = published[change.customer_uuid()];
        if (change.type() == v1::CHANGE_TYPE_EVENT_PUBLISHED) {
          EXPECT_TRUE(events.insert(change.event().uuid()).second);
        } else if (change.type() == v1::CHANGE_TYPE_EVENT_RETRACTED) {
          EXPECT_EQ(events.erase(change.event().uuid()), 1u);
        }
      }
      request.set_after_cursor(page.next_cursor());
    }
    for (const auto& [customer, events] : published) {
      grpc::ClientContext context;
      v1::GetCustomerRequest get;
      get.set_uuid(customer);
      v1::Customer found;
      if (!customers_->GetCustomer(&context, get, &found).ok()) {
        EXPECT_THAT(events, IsEmpty()) << customer << " is gone";
        continue;
      }
      std::set<std::string> now;
      for (const v1::SubscriptionEvent& event :
           Events(customer, server_.clock().Now())) {
        now.insert(event.uuid());
      }
      EXPECT_EQ(events, now) << customer;
    }
  }

  // Monthly invoices of "sub-1" from January 2025, all paid on time except
  // those whose month is listed in `unpaid` (1 = January).
  static std::vector<InvoiceSpec> Year2025(int months,
                                           std::vector<int> unpaid = {}) {
    std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), months);
    for (int month : unpaid) specs[month - 1].payments.clear();
    return specs;
  }
};

TEST_F(SubscriptionRulesTest, R1_TrialNeverStartsAndTheFirstPaidPeriodDoes) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  InvoiceSpec trial{"trial", "sub-1", T("2025-01-01"), T("2025-01-15"), 0};
  trial.line_item_type = "TRIAL";
  InvoiceSpec paid{
      "paid", "sub-1",         T("2025-01-15"),           T("2025-02-15"),
      4900,   T("2025-01-15"), {Payment{T("2025-01-15")}}};
  InvoiceSpec one_time{"setup",         "sub-x", T("2025-01-15"),
                       T("2025-01-16"), 10000,   T("2025-01-15")};
  one_time.line_item_type = "ONE_TIME";
  MustImport(customer, {trial, paid, one_time});

  EXPECT_THAT(Subscriptions(customer, T("2025-01-10")), IsEmpty());
  EXPECT_EQ(GetCustomer(customer, T("2025-01-10")).status(),
            v1::CUSTOMER_STATUS_LEAD);
  const v1::Subscription sub = Subscription(customer, T("2025-01-15"));
  EXPECT_EQ(sub.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_EQ(sub.external_id(), "sub-1");
  EXPECT_EQ(sub.started_at().seconds(), absl::ToUnixSeconds(T("2025-01-15")));
  EXPECT_EQ(sub.current_period_end().seconds(),
            absl::ToUnixSeconds(T("2025-02-15")));
  EXPECT_EQ(GetCustomer(customer, T("2025-01-15")).status(),
            v1::CUSTOMER_STATUS_ACTIVE);
  // The ONE_TIME line item (unpaid, due) created no subscription.
  EXPECT_EQ(Subscriptions(customer, T("2025-01-20")).size(), 1u);
}

TEST_F(SubscriptionRulesTest, R2_PartialFailedAndRefundedPaymentsKeepItOpen) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  std::vector<InvoiceSpec> specs = Year2025(3, {2});
  specs[1].payments = {Payment{T("2025-02-01"), 2000},
                       Payment{T("2025-02-02"), std::nullopt, /*failed=*/true},
                       Payment{T("2025-02-03"), 2900, false, /*refund=*/true}};
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer, specs, &imported).ok());
  EXPECT_EQ(StatusAt(customer, T("2025-02-10")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);

  // The rest arrives later and was made on Feb 20.
  ASSERT_TRUE(
      Pay(imported.invoices(1).uuid(), "rest", T("2025-02-20"), 2900).ok());
  const v1::Subscription before = Subscription(customer, T("2025-02-19"));
  EXPECT_EQ(before.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(before.past_due_since().seconds(),
            absl::ToUnixSeconds(T("2025-02-01")));
  EXPECT_EQ(StatusAt(customer, T("2025-02-20")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
}

TEST_F(SubscriptionRulesTest, R3a_InvoiceSignalNeedsADueDate) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  std::vector<InvoiceSpec> specs = Year2025(3, {2});
  specs[1].due.reset();  // unpaid, but with no due date
  MustImport(customer, specs);
  EXPECT_EQ(StatusAt(customer, T("2025-02-15")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_THAT(EventStrings(customer),
              ElementsAre("STARTED@2025-01-01T00:00:00",
                          "PAST_DUE@2025-04-01T00:00:00"));
}

TEST_F(SubscriptionRulesTest, R3b_MissingRenewalIsPastDueFromThePeriodEnd) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(2));
  EXPECT_EQ(StatusAt(customer, T("2025-02-28T23:59:59")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  const v1::Subscription sub = Subscription(customer, T("2025-03-01"));
  EXPECT_EQ(sub.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(sub.past_due_since().seconds(),
            absl::ToUnixSeconds(T("2025-03-01")));
  EXPECT_FALSE(sub.status_reason().empty());
}

TEST_F(SubscriptionRulesTest, R4_CancelledUntilTheNextPeriodThenReactivated) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(3));
  const std::string sub = Subscription(customer, T("2025-01-05")).uuid();
  v1::Subscription cancelled;
  ASSERT_TRUE(Cancel(sub, T("2025-02-10"), &cancelled).ok());
  // A second cancellation while cancelled changes nothing.
  ASSERT_TRUE(Cancel(sub, T("2025-02-20")).ok());

  const v1::Subscription at = Subscription(customer, T("2025-02-25"));
  EXPECT_EQ(at.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_EQ(at.cancelled_at().seconds(), absl::ToUnixSeconds(T("2025-02-10")));
  EXPECT_FALSE(at.auto_churned());
  EXPECT_EQ(GetCustomer(customer, T("2025-02-25")).status(),
            v1::CUSTOMER_STATUS_CANCELLED);
  EXPECT_EQ(StatusAt(customer, T("2025-03-01")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_THAT(EventStrings(customer),
              ElementsAre("STARTED@2025-01-01T00:00:00",
                          "CANCELLED@2025-02-10T00:00:00",
                          "REACTIVATED@2025-03-01T00:00:00",
                          "PAST_DUE@2025-04-01T00:00:00"));
}

TEST_F(SubscriptionRulesTest, R5_PastDueSinceIsTheStartOfTheStretch) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  std::vector<InvoiceSpec> specs = Year2025(2, {2});
  MustImport(customer, specs);
  // Feb's invoice is unpaid from Feb 1; the missing March renewal continues
  // the same unbroken stretch.
  const v1::Subscription sub = Subscription(customer, T("2025-03-15"));
  EXPECT_EQ(sub.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(sub.past_due_since().seconds(),
            absl::ToUnixSeconds(T("2025-02-01")));
  EXPECT_EQ(GetCustomer(customer, T("2025-03-15")).status(),
            v1::CUSTOMER_STATUS_PAST_DUE);
}

// The worked example of the engine issue, with only the next month's invoice
// paid: churn at S + 14 days, cancelled until the next period, reactivated.
TEST_F(SubscriptionRulesTest, R6_WorkedExampleUnrelatedPaymentReactivates) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(4, {2}));

  const v1::Subscription past_due =
      Subscription(customer, T("2025-02-14T23:59:59"));
  EXPECT_EQ(past_due.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(past_due.status_reason(),
            "Past due since 2025-02-01: invoice sub-1-2025-02 (EUR 49.00) is "
            "not paid in full; it auto-churns on 2025-02-15 under this "
            "source's 14-day setting.");
  const v1::Subscription churned = Subscription(customer, T("2025-02-15"));
  EXPECT_EQ(churned.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_TRUE(churned.auto_churned());
  EXPECT_EQ(churned.cancelled_at().seconds(),
            absl::ToUnixSeconds(T("2025-02-15")));
  EXPECT_EQ(churned.status_reason(),
            "Automatically cancelled on 2025-02-15 after 14 days past due "
            "(source setting).");
  EXPECT_EQ(StatusAt(customer, T("2025-03-01")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_THAT(
      EventStrings(customer),
      ElementsAre(
          "STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
          "AUTO_CHURNED@2025-02-15T00:00:00", "REACTIVATED@2025-03-01T00:00:00",
          "PAST_DUE@2025-05-01T00:00:00", "AUTO_CHURNED@2025-05-15T00:00:00"));
  // R8: the tag stays after the reactivation.
  EXPECT_THAT(GetCustomer(customer, T("2025-03-10")).tags(), Contains(kTag));
}

TEST_F(SubscriptionRulesTest, R6a_PaymentAfterTheChurnRemovesIt) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer, Year2025(4, {2}), &imported).ok());
  ASSERT_TRUE(Pay(imported.invoices(1).uuid(), "late", T("2025-03-03")).ok());

  EXPECT_EQ(StatusAt(customer, T("2025-02-15")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(StatusAt(customer, T("2025-03-03")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_THAT(
      EventStrings(customer, T("2025-04-30")),
      ElementsAre("STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "RECOVERED@2025-03-03T00:00:00"));
  EXPECT_THAT(GetCustomer(customer, T("2025-04-30")).tags(),
              Not(Contains(kTag)));
}

TEST_F(SubscriptionRulesTest, R6_BoundariesForOneAndNinetyDays) {
  const std::string one = CreateSource("One day", 1);
  const std::string ninety = CreateSource("Ninety days", 90);
  const std::string c1 = CreateCustomer(one, "c1");
  const std::string c90 = CreateCustomer(ninety, "c90");
  MoveToLater();
  MustImport(c1, Year2025(3, {2}));
  InvoiceSpec yearly{"y",   "sub-y",        T("2025-01-01"), T("2026-01-01"),
                     50000, T("2025-01-01")};
  MustImport(c90, {yearly});

  EXPECT_EQ(StatusAt(c1, T("2025-02-01T23:59:59")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(StatusAt(c1, T("2025-02-02")), v1::SUBSCRIPTION_STATUS_CANCELLED);
  // 2025-01-01 + 90 days = 2025-04-01.
  EXPECT_EQ(StatusAt(c90, T("2025-03-31T23:59:59")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(StatusAt(c90, T("2025-04-01")), v1::SUBSCRIPTION_STATUS_CANCELLED);
}

TEST_F(SubscriptionRulesTest, R6b_SettingsAreNotRetroactiveForResolvedCases) {
  // The same history in two sources: a renewal gap Feb 1 .. Mar 10 that was
  // resolved by the renewal. Source "before" had auto-churn when it
  // happened; source "after" switched to it long after it was resolved.
  const std::string before = CreateSource("Before", 14);
  const std::string after = CreateSource("After");
  const std::string c_before = CreateCustomer(before, "c1");
  const std::string c_after = CreateCustomer(after, "c1");
  MoveToLater();
  SetAutoChurn(after, 14);  // applied_at = 2026-01-01
  std::vector<InvoiceSpec> specs = {{"jan",
                                     "sub-1",
                                     T("2025-01-01"),
                                     T("2025-02-01"),
                                     4900,
                                     T("2025-01-01"),
                                     {Payment{T("2025-01-01")}}},
                                    {"mar",
                                     "sub-1",
                                     T("2025-03-10"),
                                     T("2025-12-31"),
                                     4900,
                                     T("2025-03-10"),
                                     {Payment{T("2025-03-10")}}}};
  MustImport(c_before, specs);
  MustImport(c_after, specs);

  EXPECT_THAT(
      EventStrings(c_before, T("2025-12-30")),
      ElementsAre("STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "AUTO_CHURNED@2025-02-15T00:00:00",
                  "REACTIVATED@2025-03-10T00:00:00"));
  EXPECT_THAT(
      EventStrings(c_after, T("2025-12-30")),
      ElementsAre("STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "RECOVERED@2025-03-10T00:00:00"));
}

TEST_F(SubscriptionRulesTest, R6c_AnEarlierExplicitCancellationStands) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(4, {2}));
  const std::string sub = Subscription(customer, T("2025-01-05")).uuid();
  ASSERT_TRUE(Cancel(sub, T("2025-02-10")).ok());
  const v1::Subscription at = Subscription(customer, T("2025-02-20"));
  EXPECT_EQ(at.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_FALSE(at.auto_churned());
  EXPECT_EQ(at.cancelled_at().seconds(), absl::ToUnixSeconds(T("2025-02-10")));
  EXPECT_THAT(
      EventStrings(customer, T("2025-02-28")),
      ElementsAre("STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "CANCELLED@2025-02-10T00:00:00"));
}

TEST_F(SubscriptionRulesTest, R6d_AChurnReplacesALaterExplicitCancellation) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(4, {2}));
  const std::string sub = Subscription(customer, T("2025-01-05")).uuid();
  ASSERT_TRUE(Cancel(sub, T("2025-02-20")).ok());
  const v1::Subscription at = Subscription(customer, T("2025-02-25"));
  EXPECT_EQ(at.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_TRUE(at.auto_churned());
  EXPECT_EQ(at.cancelled_at().seconds(), absl::ToUnixSeconds(T("2025-02-15")));
  EXPECT_THAT(
      EventStrings(customer, T("2025-03-31")),
      ElementsAre("STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "AUTO_CHURNED@2025-02-15T00:00:00",
                  "REACTIVATED@2025-03-01T00:00:00"));
}

// Periods run from the 15th; the January invoice falls due on Feb 1 and is
// never paid, so with 14 days the churn instant is Feb 15.
std::vector<InvoiceSpec> MidMonth(absl::Time second_period_start) {
  return {{"jan", "sub-1", T("2025-01-15"), second_period_start, 4900,
           T("2025-02-01")},
          {"feb",
           "sub-1",
           second_period_start,
           second_period_start + absl::Hours(24 * 28),
           4900,
           second_period_start,
           {Payment{second_period_start}}}};
}

TEST_F(SubscriptionRulesTest, R6e_SameDayRenewalMeansNoChurn) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, MidMonth(T("2025-02-15T09:00:00")));
  EXPECT_EQ(StatusAt(customer, T("2025-02-15T08:00:00")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(StatusAt(customer, T("2025-02-15T09:00:00")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_THAT(
      EventStrings(customer, T("2025-03-01")),
      ElementsAre("STARTED@2025-01-15T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
                  "RECOVERED@2025-02-15T09:00:00"));
}

TEST_F(SubscriptionRulesTest, R6e_NextDayRenewalChurnsAndChurnsAgain) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, MidMonth(T("2025-02-16")));
  // Churned at Feb 15, reactivated Feb 16; the missing renewal after
  // Mar 16 churns it a second time 14 days later.
  EXPECT_THAT(
      EventStrings(customer),
      ElementsAre(
          "STARTED@2025-01-15T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
          "AUTO_CHURNED@2025-02-15T00:00:00", "REACTIVATED@2025-02-16T00:00:00",
          "PAST_DUE@2025-03-16T00:00:00", "AUTO_CHURNED@2025-03-30T00:00:00"));
}

TEST_F(SubscriptionRulesTest, R7_MergedCustomerAcrossSourcesWithOwnSettings) {
  const std::string keep = CreateSource("Keep");
  const std::string churn = CreateSource("Churn", 14);
  const std::string into = CreateCustomer(keep, "k1");
  const std::string from = CreateCustomer(churn, "c1");
  MoveToLater();
  MustImport(into, Monthly("sub-k", T("2025-01-01"), 6));
  std::vector<InvoiceSpec> churning = Monthly("sub-c", T("2025-01-01"), 3);
  churning[1].payments.clear();
  MustImport(from, churning);
  {
    grpc::ClientContext context;
    v1::MergeCustomersRequest request;
    request.set_from_customer_uuid(from);
    request.set_into_customer_uuid(into);
    v1::Customer merged;
    ASSERT_TRUE(customers_->MergeCustomers(&context, request, &merged).ok());
  }
  EXPECT_EQ(Subscriptions(into, T("2025-02-10")).size(), 2u);
  // sub-c is past due: the customer is past due.
  EXPECT_EQ(GetCustomer(into, T("2025-02-10")).status(),
            v1::CUSTOMER_STATUS_PAST_DUE);
  // sub-c auto-churned under its own source's 14 days; sub-k is active.
  const v1::Customer at = GetCustomer(into, T("2025-02-20"));
  EXPECT_EQ(at.status(), v1::CUSTOMER_STATUS_ACTIVE);
  EXPECT_THAT(at.tags(), Contains(kTag));  // R8

  // A merged customer spanning two sources must name the invoice's source.
  InvoiceSpec ambiguous{"x", "sub-k", T("2025-07-01"), T("2025-08-01")};
  grpc::Status status = Import(into, {ambiguous});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("invoices[0].data_source_uuid"));
  ambiguous.data_source_uuid = keep;
  EXPECT_TRUE(Import(into, {ambiguous}).ok());
}

TEST_F(SubscriptionRulesTest, R8_TagFollowsChurnsAndUserTagsAreSeparate) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(customer);
    request.add_tags("vip");
    v1::Customer out;
    ASSERT_TRUE(customers_->AddCustomerTags(&context, request, &out).ok());
  }
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer, Year2025(4, {2}), &imported).ok());
  EXPECT_THAT(GetCustomer(customer, T("2025-02-01")).tags(),
              ElementsAre("vip"));
  EXPECT_THAT(GetCustomer(customer, T("2025-02-15")).tags(),
              ElementsAre(kTag, "vip"));
  // Paying the invoice removes every churn, and so the tag.
  ASSERT_TRUE(Pay(imported.invoices(1).uuid(), "late", T("2025-03-03")).ok());
  EXPECT_THAT(GetCustomer(customer, T("2025-03-10")).tags(),
              ElementsAre("vip"));
}

TEST_F(SubscriptionRulesTest, R9_EventsUpToAsOfInTimeOrder) {
  const std::string source = CreateSource("Stripe", 14);
  const std::string customer = CreateCustomer(source, "c1");
  MoveToLater();
  MustImport(customer, Year2025(4, {2}));
  EXPECT_THAT(EventStrings(customer, T("2025-02-14")),
              ElementsAre("STARTED@2025-01-01T00:00:00",
                          "PAST_DUE@2025-02-01T00:00:00"));
  const std::vector<v1::SubscriptionEvent> events =
      Events(customer, T("2025-02-15"));
  ASSERT_EQ(events.size(), 3u);
  for (const v1::SubscriptionEvent& event : events) {
    EXPECT_THAT(event.uuid(), ::testing::StartsWith("evt_"));
    EXPECT_EQ(event.customer_uuid(), customer);
    EXPECT_EQ(event.data_source_uuid(), source);
    EXPECT_EQ(event.subscription_external_id(), "sub-1");
  }
  // Event ids are stable across an unrelated write.
  InvoiceSpec other{"other",         "sub-2", T("2025-06-01"),
                    T("2025-07-01"), 100,     std::nullopt};
  MustImport(customer, {other});
  const std::vector<v1::SubscriptionEvent> again =
      Events(customer, T("2025-02-15"));
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(again[i].uuid(), events[i].uuid());
  }
}

}  // namespace
}  // namespace recurrent::service::testing
