// R1 (subscriptions), R3 (signals), R4 (cancellation), R5 (past due) and
// R9 (events) on single subscriptions.
#include <string>
#include <vector>

#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {
namespace {

using testing::AllEvents;
using testing::At;
using testing::Cancel;
using testing::Day;
using ::testing::ElementsAre;
using testing::Ev;
using ::testing::IsEmpty;
using testing::KeepSettings;
using testing::kSecond;
using testing::kSource;
using testing::kSub;
using testing::MonthlyInvoices;
using testing::MustBuild;
using testing::SubAt;
using testing::SubInvoice;
using testing::SubscriptionItem;

constexpr SubscriptionStatus kNotStarted = SubscriptionStatus::kNotStarted;
using testing::kActive;
using testing::kCancelled;
using testing::kPastDue;

// One status expectation at an instant.
struct StatusAt {
  absl::Time t;
  SubscriptionStatus status;
};

void ExpectStatuses(const CustomerTimeline& timeline,
                    const std::vector<StatusAt>& expected,
                    const std::string& sub = kSub) {
  for (const StatusAt& e : expected) {
    SCOPED_TRACE(absl::FormatTime(e.t, absl::UTCTimeZone()));
    EXPECT_EQ(SubAt(timeline, e.t, sub).status, e.status);
  }
}

// ---------------------------------------------------------------- R1

TEST(R1SubscriptionsTest, StartsAtFirstPeriodWithPositiveAmount) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-0", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                 Day(2025, 1, 1), std::nullopt, /*cents=*/0),
      SubInvoice("INV-1", kSub, Day(2025, 2, 1), Day(2025, 3, 1),
                 Day(2025, 2, 1), Day(2025, 2, 1)),
  };
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 1, 15), kNotStarted},
                            {Day(2025, 2, 1) - kSecond, kNotStarted},
                            {Day(2025, 2, 1), kActive}});
  EXPECT_EQ(SubAt(timeline, Day(2025, 1, 15)).started_at, std::nullopt);
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 1)).started_at, Day(2025, 2, 1));
  EXPECT_EQ(timeline.StatusAt(Day(2025, 1, 15)), CustomerStatus::kLead);
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 2, 1)),
                          Ev(EventType::kPastDue, Day(2025, 3, 1))));
}

TEST(R1SubscriptionsTest, ZeroAmountPeriodsNeverStart) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-0", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                               Day(2025, 1, 1), std::nullopt,
                               /*cents=*/0)};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  // The period is still reported, and its end raises no visible signal.
  const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 1, 10));
  EXPECT_EQ(s.status, kNotStarted);
  EXPECT_EQ(s.current_period_start, Day(2025, 1, 1));
  EXPECT_EQ(SubAt(timeline, Day(2026, 1, 1)).status, kNotStarted);
  EXPECT_THAT(AllEvents(timeline), IsEmpty());
  EXPECT_EQ(timeline.StatusAt(Day(2026, 1, 1)), CustomerStatus::kLead);
}

TEST(R1SubscriptionsTest, TrialLineItemsNeverStartOrRaiseSignals) {
  Invoice trial;
  trial.data_source_uuid = kSource;
  trial.external_id = "INV-T";
  trial.due_date = Day(2025, 1, 1);  // unpaid and due: still no signal
  LineItem item = SubscriptionItem(kSub, Day(2025, 1, 1), Day(2025, 1, 15));
  item.type = LineItemType::kTrial;
  trial.line_items.push_back(item);
  CustomerFacts facts;
  facts.invoices = {trial};
  {
    const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
    EXPECT_EQ(SubAt(timeline, Day(2025, 1, 5)).status, kNotStarted);
    EXPECT_EQ(SubAt(timeline, Day(2025, 1, 5)).current_period_start,
              std::nullopt);
    EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1)).status, kNotStarted);
  }
  facts.invoices.push_back(SubInvoice("INV-1", kSub, Day(2025, 1, 15),
                                      Day(2025, 2, 15), Day(2025, 1, 15),
                                      Day(2025, 1, 15)));
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 1, 14), kNotStarted},
                            {Day(2025, 1, 15), kActive},
                            {Day(2025, 2, 15) - kSecond, kActive}});
}

TEST(R1SubscriptionsTest, OneTimeLineItemsCreateNoSubscription) {
  Invoice invoice;
  invoice.data_source_uuid = kSource;
  invoice.external_id = "INV-1";
  invoice.due_date = Day(2025, 1, 1);
  LineItem item;
  item.type = LineItemType::kOneTime;
  item.amount_in_cents = 1000;
  invoice.line_items.push_back(item);
  CustomerFacts facts;
  facts.invoices = {invoice};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_THAT(timeline.subscriptions(), IsEmpty());
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 2, 1)).status, CustomerStatus::kLead);
}

TEST(R1SubscriptionsTest, IdentifiedBySourceAndExternalId) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 2);
  Invoice other = SubInvoice("INV-X", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                             Day(2025, 1, 1), std::nullopt);
  other.data_source_uuid = testing::kOtherSource;
  facts.invoices.push_back(other);
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ASSERT_EQ(timeline.subscriptions().size(), 2u);
  EXPECT_EQ(SubAt(timeline, Day(2025, 1, 10)).status, kActive);
  EXPECT_EQ(
      SubAt(timeline, Day(2025, 1, 10), kSub, testing::kOtherSource).status,
      kPastDue);
}

// ---------------------------------------------------------------- R3

TEST(R3SignalsTest, InvoiceSignalRunsFromDueDateUntilFullyPaid) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                               Day(2025, 1, 10), Day(2025, 1, 20))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 1, 10) - kSecond, kActive},
                            {Day(2025, 1, 10), kPastDue},
                            {Day(2025, 1, 20) - kSecond, kPastDue},
                            {Day(2025, 1, 20), kActive}});
}

TEST(R3SignalsTest, PartialPaymentKeepsTheSignal) {
  CustomerFacts facts;
  Invoice invoice = SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                               Day(2025, 1, 10), std::nullopt);
  invoice.transactions = {testing::Payment(Day(2025, 1, 12), 4000),
                          testing::Payment(Day(2025, 1, 25), 900)};
  facts.invoices = {invoice};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 1, 12), kPastDue},
                            {Day(2025, 1, 25) - kSecond, kPastDue},
                            {Day(2025, 1, 25), kActive}});
}

TEST(R3SignalsTest, InvoiceWithoutDueDateRaisesNoSignal) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                               std::nullopt, std::nullopt)};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2025, 6, 1)).status, kActive);
}

TEST(R3SignalsTest, PaidOnOrBeforeDueDateRaisesNoSignal) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                               Day(2025, 1, 10), Day(2025, 1, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2026, 1, 1))));
}

TEST(R3SignalsTest, InvoiceSignalAppliesToEverySubscriptionOnIt) {
  Invoice invoice = SubInvoice("INV-1", "sub_a", Day(2025, 1, 1),
                               Day(2026, 1, 1), Day(2025, 1, 10), std::nullopt);
  invoice.line_items.push_back(
      SubscriptionItem("sub_b", Day(2025, 1, 1), Day(2026, 1, 1), 0));
  CustomerFacts facts;
  facts.invoices = {invoice};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 1), "sub_a").status, kPastDue);
  // sub_b never started (amount 0), so it cannot be past due.
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 1), "sub_b").status, kNotStarted);
}

TEST(R3SignalsTest, InvoiceSignalAppliesToEveryStartedSubscriptionOnIt) {
  // Both subscriptions start with the invoice's period; its one unpaid
  // amount makes both past due from its due date.
  Invoice invoice = SubInvoice("INV-1", "sub_a", Day(2025, 1, 1),
                               Day(2026, 1, 1), Day(2025, 1, 10), std::nullopt);
  invoice.line_items.push_back(
      SubscriptionItem("sub_b", Day(2025, 1, 1), Day(2026, 1, 1), 100));
  CustomerFacts facts;
  facts.invoices = {invoice};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  for (const std::string sub : {"sub_a", "sub_b"}) {
    SCOPED_TRACE(sub);
    EXPECT_EQ(SubAt(timeline, Day(2025, 1, 10) - kSecond, sub).status, kActive);
    const SubscriptionEvaluation at = SubAt(timeline, Day(2025, 2, 1), sub);
    EXPECT_EQ(at.status, kPastDue);
    EXPECT_EQ(at.past_due_since, Day(2025, 1, 10));
  }
}

TEST(R3SignalsTest, RenewalSignalFromUncoveredEndUntilNextStart) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2025, 2, 1), std::nullopt,
                 std::nullopt),
      SubInvoice("INV-2", kSub, Day(2025, 2, 5), Day(2025, 3, 5), std::nullopt,
                 std::nullopt),
  };
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 2, 1) - kSecond, kActive},
                            {Day(2025, 2, 1), kPastDue},
                            {Day(2025, 2, 5) - kSecond, kPastDue},
                            {Day(2025, 2, 5), kActive},
                            {Day(2025, 3, 5) - kSecond, kActive},
                            {Day(2025, 3, 5), kPastDue},
                            {Day(2030, 1, 1), kPastDue}});
  const SubscriptionEvaluation gap = SubAt(timeline, Day(2025, 2, 2));
  EXPECT_EQ(gap.current_period_start, std::nullopt);
  EXPECT_EQ(gap.status_reason,
            "Past due since 2025-02-01: the service period that ended "
            "2025-02-01 was not renewed.");
}

TEST(R3SignalsTest, OverlappingPeriodCoversAnEnd) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2025, 2, 1), std::nullopt,
                 std::nullopt),
      SubInvoice("INV-2", kSub, Day(2025, 1, 15), Day(2025, 2, 15),
                 std::nullopt, std::nullopt),
  };
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 2, 1), kActive},
                            {Day(2025, 2, 15) - kSecond, kActive},
                            {Day(2025, 2, 15), kPastDue}});
  // The latest-starting period containing t is the current one.
  EXPECT_EQ(SubAt(timeline, Day(2025, 1, 20)).current_period_start,
            Day(2025, 1, 15));
}

TEST(R3SignalsTest, AdjacentPeriodsRaiseNoRenewalSignal) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 3);
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 4, 1))));
}

// ---------------------------------------------------------------- R4

TEST(R4CancellationTest, CancelledUntilNextPeriodStartThenReactivated) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.cancellations = {Cancel(kSub, At(2025, 2, 10, 12))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{At(2025, 2, 10, 12) - kSecond, kActive},
                            {At(2025, 2, 10, 12), kCancelled},
                            {Day(2025, 3, 1) - kSecond, kCancelled},
                            {Day(2025, 3, 1), kActive}});
  const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 2, 20));
  EXPECT_EQ(s.cancelled_at, At(2025, 2, 10, 12));
  EXPECT_FALSE(s.auto_churned);
  EXPECT_EQ(s.status_reason,
            "Cancelled on 2025-02-10 12:00:00 UTC by an explicit "
            "cancellation.");
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kCancelled, At(2025, 2, 10, 12)),
                          Ev(EventType::kReactivated, Day(2025, 3, 1)),
                          Ev(EventType::kPastDue, Day(2025, 5, 1))));
}

TEST(R4CancellationTest, CancelledForeverWithoutALaterPeriod) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 2);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2030, 1, 1)).status, kCancelled);
  EXPECT_EQ(timeline.NextTransitionAfter(Day(2025, 3, 2)), std::nullopt);
}

TEST(R4CancellationTest, CancellationAtAPeriodStartWaitsForTheNextOne) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 3);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 1))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 2, 1), kCancelled},
                            {Day(2025, 3, 1) - kSecond, kCancelled},
                            {Day(2025, 3, 1), kActive}});
}

TEST(R4CancellationTest, CancellationWhileCancelledChangesNothing) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const CustomerTimeline once = MustBuild(facts, KeepSettings());
  facts.cancellations.push_back(Cancel(kSub, Day(2025, 2, 20)));
  const CustomerTimeline twice = MustBuild(facts, KeepSettings());
  EXPECT_EQ(AllEvents(once), AllEvents(twice));
  EXPECT_EQ(SubAt(twice, Day(2025, 2, 25)).cancelled_at, Day(2025, 2, 10));
  EXPECT_EQ(SubAt(twice, Day(2025, 2, 25)), SubAt(once, Day(2025, 2, 25)));
}

TEST(R4CancellationTest, CancellationBeforeStartChangesNothing) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 3, 1), 2);
  facts.invoices.push_back(SubInvoice("INV-OLD", kSub, Day(2025, 1, 1),
                                      Day(2025, 3, 1), Day(2025, 1, 1),
                                      std::nullopt, /*cents=*/0));
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 1))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 3, 1)),
                          Ev(EventType::kPastDue, Day(2025, 5, 1))));
}

TEST(R4CancellationTest, CancellationAtTheStartTakesEffect) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 2);
  facts.cancellations = {Cancel(kSub, Day(2025, 1, 1))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2025, 1, 1)).status, kCancelled);
  EXPECT_EQ(SubAt(timeline, Day(2025, 1, 1)).cancelled_at, Day(2025, 1, 1));
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kCancelled, Day(2025, 1, 1)),
                          Ev(EventType::kReactivated, Day(2025, 2, 1)),
                          Ev(EventType::kPastDue, Day(2025, 3, 1))));
}

TEST(R4CancellationTest, ReactivationSettlesOlderSignals) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.invoices[1].transactions.clear();  // INV-2 (February) never paid
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(timeline, {{Day(2025, 2, 1), kPastDue},
                            {Day(2025, 2, 10), kCancelled},
                            {Day(2025, 3, 1), kActive},
                            {Day(2025, 4, 15), kActive}});
}

TEST(R4CancellationTest, ReactivatedStraightIntoPastDue) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.invoices[2].transactions = {testing::Payment(Day(2025, 3, 5))};
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  // R9: the reactivation into PAST_DUE is one REACTIVATED event, and it
  // says so: its status_after is PAST_DUE, not ACTIVE.
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kCancelled, Day(2025, 2, 10)),
                          Ev(EventType::kReactivated, Day(2025, 3, 1),
                             SubscriptionStatus::kPastDue),
                          Ev(EventType::kRecovered, Day(2025, 3, 5)),
                          Ev(EventType::kPastDue, Day(2025, 5, 1))));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 2)).past_due_since, Day(2025, 3, 1));
}

// ---------------------------------------------------------------- R5

TEST(R5PastDueTest, PastDueSinceIsTheStartOfTheUnbrokenStretch) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                 Day(2025, 2, 1), Day(2025, 2, 10)),
      SubInvoice("INV-2", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                 Day(2025, 2, 5), Day(2025, 2, 20), /*cents=*/1250),
  };
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  const SubscriptionEvaluation early = SubAt(timeline, Day(2025, 2, 7));
  EXPECT_EQ(early.past_due_since, Day(2025, 2, 1));
  EXPECT_EQ(early.status_reason,
            "Past due since 2025-02-01: invoice INV-1 (EUR 49.00) is not "
            "paid in full.");
  const SubscriptionEvaluation late = SubAt(timeline, Day(2025, 2, 15));
  EXPECT_EQ(late.past_due_since, Day(2025, 2, 1));
  EXPECT_EQ(late.status_reason,
            "Past due since 2025-02-01: invoice INV-2 (EUR 12.50) is not "
            "paid in full.");
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 20)).past_due_since, std::nullopt);
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 2, 20)),
                          Ev(EventType::kPastDue, Day(2026, 1, 1))));
}

TEST(R5PastDueTest, AGapStartsANewStretch) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                 Day(2025, 2, 1), Day(2025, 2, 10)),
      SubInvoice("INV-2", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                 Day(2025, 2, 12), Day(2025, 2, 20)),
  };
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).past_due_since, Day(2025, 2, 12));
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 2, 10)),
                          Ev(EventType::kPastDue, Day(2025, 2, 12)),
                          Ev(EventType::kRecovered, Day(2025, 2, 20)),
                          Ev(EventType::kPastDue, Day(2026, 1, 1))));
}

TEST(R5PastDueTest, AdjacentSignalsFormOneStretch) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                               Day(2025, 1, 20), Day(2025, 3, 1))};
  facts.invoices.push_back(SubInvoice("INV-2", kSub, Day(2025, 3, 1),
                                      Day(2025, 4, 1), Day(2025, 3, 1),
                                      Day(2025, 3, 1)));
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  // INV-1 [Jan 20, Mar 1) and the renewal signal [Feb 1, Mar 1) meet the
  // end at Mar 1; the stretch is unbroken from Jan 20.
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).past_due_since, Day(2025, 1, 20));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1)).status, kActive);
}

TEST(R5PastDueTest, StartsAlreadyPastDueWithOneStartedEvent) {
  CustomerFacts facts;
  facts.invoices = {SubInvoice("INV-1", kSub, Day(2025, 2, 1), Day(2025, 3, 1),
                               Day(2025, 1, 20), Day(2025, 2, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  ExpectStatuses(
      timeline, {{Day(2025, 1, 25), kNotStarted}, {Day(2025, 2, 1), kPastDue}});
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 1)).past_due_since, Day(2025, 2, 1));
  // Its STARTED event leads straight into PAST_DUE.
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 2, 1),
                             SubscriptionStatus::kPastDue),
                          Ev(EventType::kRecovered, Day(2025, 2, 10)),
                          Ev(EventType::kPastDue, Day(2025, 3, 1))));
}

// ---------------------------------------------------------------- R9

TEST(R9EventsTest, EventsUpToTOnly) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_THAT(SubAt(timeline, Day(2025, 2, 10) - kSecond).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1))));
  EXPECT_THAT(SubAt(timeline, Day(2025, 2, 10)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kCancelled, Day(2025, 2, 10))));
  EXPECT_THAT(SubAt(timeline, Day(2024, 12, 31)).events, IsEmpty());
}

TEST(R9EventsTest, AllEventTypesInOrder) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 6);
  facts.invoices[1].transactions = {testing::Payment(Day(2025, 2, 5))};
  facts.invoices[3].transactions.clear();  // April: never paid
  facts.cancellations = {Cancel(kSub, Day(2025, 3, 10))};
  const CustomerTimeline timeline = MustBuild(facts, testing::AutoChurn(14));
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 2, 5)),
                          Ev(EventType::kCancelled, Day(2025, 3, 10)),
                          // April is never paid: straight into PAST_DUE.
                          Ev(EventType::kReactivated, Day(2025, 4, 1),
                             kPastDue),
                          Ev(EventType::kAutoChurned, Day(2025, 4, 15)),
                          Ev(EventType::kReactivated, Day(2025, 5, 1)),
                          Ev(EventType::kPastDue, Day(2025, 7, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 7, 15))));
}

TEST(R9EventsTest, ConsecutiveEventsAlwaysChangeTheStatus) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 6);
  facts.invoices[2].transactions.clear();
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10)),
                         Cancel(kSub, Day(2025, 2, 11)),
                         Cancel(kSub, Day(2025, 3, 1))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  const std::vector<SubscriptionEvent> events = AllEvents(timeline);
  for (const SubscriptionEvent& event : events) {
    SCOPED_TRACE(::testing::PrintToString(event));
    EXPECT_NE(SubAt(timeline, event.occurred_at - absl::Nanoseconds(1)).status,
              SubAt(timeline, event.occurred_at).status);
  }
  // The cancellation at the reactivation instant (Mar 1) keeps it
  // cancelled: no REACTIVATED/CANCELLED pair at one instant.
  EXPECT_THAT(events, ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                                  Ev(EventType::kCancelled, Day(2025, 2, 10)),
                                  Ev(EventType::kReactivated, Day(2025, 4, 1)),
                                  Ev(EventType::kPastDue, Day(2025, 7, 1))));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 15)).cancelled_at, Day(2025, 2, 10));
}

// status_after is the status from the event's instant until the next event,
// whatever the type: here every type, and STARTED and REACTIVATED both into
// ACTIVE and straight into PAST_DUE.
TEST(R9EventsTest, StatusAfterIsTheStatusUntilTheNextEvent) {
  CustomerFacts every_type;
  every_type.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 6);
  every_type.invoices[1].transactions = {testing::Payment(Day(2025, 2, 5))};
  every_type.invoices[3].transactions.clear();
  every_type.cancellations = {Cancel(kSub, Day(2025, 3, 10))};
  CustomerFacts into_past_due;  // starts and is reactivated into PAST_DUE
  into_past_due.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  into_past_due.invoices[0].transactions = {testing::Payment(Day(2025, 1, 3))};
  into_past_due.invoices[2].transactions = {testing::Payment(Day(2025, 3, 5))};
  into_past_due.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  for (const CustomerFacts* facts : {&every_type, &into_past_due}) {
    const CustomerTimeline timeline =
        MustBuild(*facts, facts == &every_type ? testing::AutoChurn(14)
                                               : KeepSettings());
    const std::vector<SubscriptionEvent> events = AllEvents(timeline);
    ASSERT_FALSE(events.empty());
    for (size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE(::testing::PrintToString(events[i]));
      EXPECT_NE(events[i].status_after, kNotStarted);
      EXPECT_EQ(events[i].status_after,
                SubAt(timeline, events[i].occurred_at).status);
      const absl::Time until = i + 1 < events.size()
                                   ? events[i + 1].occurred_at
                                   : Day(2030, 1, 1);
      EXPECT_EQ(events[i].status_after,
                SubAt(timeline, until - absl::Nanoseconds(1)).status);
    }
  }
  EXPECT_THAT(
      AllEvents(MustBuild(into_past_due, KeepSettings())),
      ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1), kPastDue),
                  Ev(EventType::kRecovered, Day(2025, 1, 3), kActive),
                  Ev(EventType::kCancelled, Day(2025, 2, 10), kCancelled),
                  Ev(EventType::kReactivated, Day(2025, 3, 1), kPastDue),
                  Ev(EventType::kRecovered, Day(2025, 3, 5), kActive),
                  Ev(EventType::kPastDue, Day(2025, 5, 1), kPastDue)));
  // every_type's events: R9EventsTest.AllEventTypesInOrder.
}

}  // namespace
}  // namespace recurrent::engine
