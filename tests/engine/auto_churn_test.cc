// R6: auto-churn and its exceptions (a)-(e), including the worked example
// of the issue.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {
namespace {

using testing::AllEvents;
using testing::At;
using testing::AutoChurn;
using testing::Cancel;
using ::testing::Contains;
using testing::Day;
using testing::Days;
using ::testing::ElementsAre;
using testing::Ev;
using testing::KeepSettings;
using testing::kSecond;
using testing::kSub;
using testing::MonthlyInvoices;
using testing::MustBuild;
using ::testing::Not;
using testing::Payment;
using testing::SubAt;
using testing::SubInvoice;

using testing::kActive;
using testing::kCancelled;
using testing::kPastDue;

bool HasEvent(const std::vector<SubscriptionEvent>& events, EventType type) {
  for (const SubscriptionEvent& e : events) {
    if (e.type == type) return true;
  }
  return false;
}

// A subscription paid for all of 2025 plus an extra invoice of it due at
// `due` and paid at `paid` (if set): the only delinquency in 2025.
CustomerFacts AnnualWithExtraInvoice(absl::Time due,
                                     std::optional<absl::Time> paid) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2026, 1, 1),
                 Day(2025, 1, 1), Day(2025, 1, 1)),
      SubInvoice("INV-2", kSub, Day(2025, 1, 1), Day(2026, 1, 1), due, paid),
  };
  return facts;
}

// The worked example: monthly subscription from 2025-01-01, invoices due and
// paid at each period start, except the February one (INV-2).
CustomerFacts WorkedExample(int months, std::optional<absl::Time> inv2_paid) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), months);
  facts.invoices[1].transactions.clear();
  if (inv2_paid.has_value()) {
    facts.invoices[1].transactions.push_back(Payment(*inv2_paid));
  }
  return facts;
}

// Two periods [Jan 1, Feb 1) and [next_start, +30 days), both paid on time:
// the only delinquency is the renewal signal [Feb 1, next_start).
CustomerFacts RenewalGap(absl::Time next_start) {
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                 Day(2025, 1, 1), Day(2025, 1, 1)),
      SubInvoice("INV-2", kSub, next_start, next_start + Days(30), next_start,
                 next_start),
  };
  return facts;
}

// ------------------------------------------------------- worked example

TEST(R6AutoChurnTest, WorkedExample_NeverPaidChurnsAfter14Days) {
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(2, std::nullopt), AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 1) - kSecond).status, kActive);
  const SubscriptionEvaluation past_due = SubAt(timeline, Day(2025, 2, 1));
  EXPECT_EQ(past_due.status, kPastDue);
  EXPECT_EQ(past_due.past_due_since, Day(2025, 2, 1));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15) - kSecond).status, kPastDue);
  const SubscriptionEvaluation churned = SubAt(timeline, Day(2025, 2, 15));
  EXPECT_EQ(churned.status, kCancelled);
  EXPECT_TRUE(churned.auto_churned);
  EXPECT_EQ(churned.cancelled_at, Day(2025, 2, 15));
  EXPECT_EQ(churned.status_reason,
            "Automatically cancelled on 2025-02-15 after 14 days past due "
            "(source setting).");
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 2, 15))));
}

TEST(R6AutoChurnTest, WorkedExample_PaidOnMarch3MeansNoChurnAtAll) {
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(4, Day(2025, 3, 3)), AutoChurn(14));
  const SubscriptionEvaluation at_churn_date =
      SubAt(timeline, Day(2025, 2, 15));
  EXPECT_EQ(at_churn_date.status, kPastDue);
  EXPECT_EQ(at_churn_date.past_due_since, Day(2025, 2, 1));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 3) - kSecond).status, kPastDue);
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 3)).status, kActive);
  EXPECT_THAT(SubAt(timeline, Day(2025, 4, 30)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 3, 3))));
  EXPECT_THAT(timeline.EvaluateAt(Day(2025, 4, 30)).derived_tags,
              Not(Contains(kAutoChurnedTag)));
}

TEST(R6AutoChurnTest, WorkedExample_OnlyNextMonthPaidReactivatesThen) {
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(4, std::nullopt), AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).status, kCancelled);
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1) - kSecond).status, kCancelled);
  const SubscriptionEvaluation reactivated = SubAt(timeline, Day(2025, 3, 1));
  EXPECT_EQ(reactivated.status, kActive);
  EXPECT_EQ(reactivated.status_reason,
            "Active since 2025-03-01: nothing is past due.");
  EXPECT_THAT(SubAt(timeline, Day(2025, 4, 30)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 2, 15)),
                          Ev(EventType::kReactivated, Day(2025, 3, 1))));
}

// ------------------------------------------------------- the main rule

TEST(R6AutoChurnTest, ChurnsExactlyXDaysAfterTheStretchStarts) {
  struct Case {
    int days;
    absl::Time stretch_start;
  };
  const std::vector<Case> cases = {
      {1, Day(2025, 2, 1)},
      {1, At(2025, 2, 1, 10, 30, 15)},
      {14, Day(2025, 2, 1)},
      {90, Day(2025, 2, 1)},
      {90, At(2025, 3, 31, 23, 59, 59)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrFormat("X=%d S=%s", c.days,
                                 absl::FormatTime(c.stretch_start)));
    const CustomerTimeline timeline =
        MustBuild(AnnualWithExtraInvoice(c.stretch_start, std::nullopt),
                  AutoChurn(c.days));
    const absl::Time churn = c.stretch_start + Days(c.days);
    const SubscriptionEvaluation before = SubAt(timeline, churn - kSecond);
    EXPECT_EQ(before.status, kPastDue);
    EXPECT_EQ(before.past_due_since, c.stretch_start);
    const SubscriptionEvaluation at = SubAt(timeline, churn);
    EXPECT_EQ(at.status, kCancelled);
    EXPECT_TRUE(at.auto_churned);
    EXPECT_EQ(at.cancelled_at, churn);
    EXPECT_EQ(at.past_due_since, std::nullopt);
    EXPECT_EQ(timeline.NextTransitionAfter(churn - kSecond), churn);
  }
}

TEST(R6AutoChurnTest, KeepModeNeverChurns) {
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(2, std::nullopt), KeepSettings());
  EXPECT_EQ(SubAt(timeline, Day(2030, 1, 1)).status, kPastDue);
  EXPECT_EQ(SubAt(timeline, Day(2030, 1, 1)).past_due_since, Day(2025, 2, 1));
  EXPECT_FALSE(HasEvent(AllEvents(timeline), EventType::kAutoChurned));
}

TEST(R6AutoChurnTest, ChurnsManyTimesOverItsLife) {
  CustomerFacts facts = WorkedExample(6, std::nullopt);
  facts.invoices[3].transactions.clear();  // April unpaid too
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(10));
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 2, 11)),
                          Ev(EventType::kReactivated, Day(2025, 3, 1)),
                          Ev(EventType::kPastDue, Day(2025, 4, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 4, 11)),
                          Ev(EventType::kReactivated, Day(2025, 5, 1)),
                          Ev(EventType::kPastDue, Day(2025, 7, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 7, 11))));
}

TEST(R6AutoChurnTest, ChangingSettingsRecomputesAndReverses) {
  const CustomerFacts facts = WorkedExample(4, std::nullopt);
  const CustomerTimeline a = MustBuild(facts, AutoChurn(14));
  const CustomerTimeline b = MustBuild(facts, KeepSettings());
  const CustomerTimeline c = MustBuild(facts, AutoChurn(20));
  const CustomerTimeline a_again = MustBuild(facts, AutoChurn(14));
  const absl::Time t = Day(2025, 2, 25);
  EXPECT_EQ(SubAt(a, t).status, kCancelled);
  EXPECT_EQ(SubAt(b, t).status, kPastDue);
  EXPECT_EQ(SubAt(c, t).status, kCancelled);
  EXPECT_EQ(SubAt(c, t).cancelled_at, Day(2025, 2, 21));
  EXPECT_EQ(a_again.EvaluateAt(t), a.EvaluateAt(t));
  EXPECT_EQ(AllEvents(a_again), AllEvents(a));
}

// ------------------------------------------------------- exception (a)

TEST(R6AutoChurnTest, ExceptionA_PaymentAfterChurnDateRemovesTheChurn) {
  const CustomerTimeline timeline = MustBuild(
      AnnualWithExtraInvoice(Day(2025, 2, 1), Day(2025, 3, 20)), AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).status, kPastDue);
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 20) - kSecond).status, kPastDue);
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 20)).status, kActive);
  EXPECT_FALSE(HasEvent(SubAt(timeline, Day(2025, 12, 31)).events,
                        EventType::kAutoChurned));
}

TEST(R6AutoChurnTest, ExceptionA_PartialPaymentDoesNotCure) {
  CustomerFacts facts = AnnualWithExtraInvoice(Day(2025, 2, 1), std::nullopt);
  facts.invoices[1].transactions = {Payment(Day(2025, 3, 1), 4800)};
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).status, kCancelled);
}

TEST(R6AutoChurnTest, ExceptionA_ChurnsWhenANonCurableSignalJoinsTheStretch) {
  CustomerFacts facts =
      AnnualWithExtraInvoice(Day(2025, 2, 1), Day(2025, 4, 1));
  facts.invoices.push_back(SubInvoice("INV-3", kSub, Day(2025, 1, 1),
                                      Day(2026, 1, 1), Day(2025, 3, 1),
                                      std::nullopt));
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1) - kSecond).status, kPastDue);
  const SubscriptionEvaluation churned = SubAt(timeline, Day(2025, 3, 1));
  EXPECT_EQ(churned.status, kCancelled);
  EXPECT_TRUE(churned.auto_churned);
  EXPECT_EQ(churned.status_reason,
            "Automatically cancelled on 2025-03-01, past due since "
            "2025-02-01 (source setting: 14 days).");
}

// ------------------------------------------------------- exception (b)

TEST(R6AutoChurnTest, ExceptionB_StretchEndedBeforeAppliedAtNeverChurns) {
  struct Case {
    std::string name;
    absl::Time applied_at;
    bool churns;
  };
  // The renewal stretch is [Feb 1, Feb 20); C would be Feb 15.
  const std::vector<Case> cases = {
      {"applied long before", absl::InfinitePast(), true},
      {"applied during the stretch", Day(2025, 2, 10), true},
      {"applied after C, stretch still running", Day(2025, 2, 20) - kSecond,
       true},
      {"applied exactly when the stretch ended", Day(2025, 2, 20), false},
      {"applied months later", Day(2025, 6, 1), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const CustomerTimeline timeline =
        MustBuild(RenewalGap(Day(2025, 2, 20)), AutoChurn(14, c.applied_at));
    const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 2, 16));
    EXPECT_EQ(s.status, c.churns ? kCancelled : kPastDue);
    EXPECT_EQ(HasEvent(SubAt(timeline, Day(2025, 3, 1)).events,
                       EventType::kAutoChurned),
              c.churns);
    EXPECT_EQ(SubAt(timeline, Day(2025, 2, 20)).status, kActive);
  }
}

TEST(R6AutoChurnTest, ExceptionB_OngoingStretchChurnsRetroactively) {
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(2, std::nullopt), AutoChurn(14, Day(2025, 6, 1)));
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).status, kCancelled);
  EXPECT_EQ(SubAt(timeline, Day(2025, 2, 15)).cancelled_at, Day(2025, 2, 15));
}

// ------------------------------------------------------- exception (c)

TEST(R6AutoChurnTest, ExceptionC_EarlierExplicitCancellationStands) {
  for (absl::Time cancel_at :
       {Day(2025, 2, 10), Day(2025, 2, 15) - kSecond, Day(2025, 2, 15)}) {
    SCOPED_TRACE(absl::FormatTime(cancel_at));
    CustomerFacts facts = WorkedExample(2, std::nullopt);
    facts.cancellations = {Cancel(kSub, cancel_at)};
    const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
    const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 3, 1));
    EXPECT_EQ(s.status, kCancelled);
    EXPECT_FALSE(s.auto_churned);
    EXPECT_EQ(s.cancelled_at, cancel_at);
    EXPECT_FALSE(HasEvent(AllEvents(timeline), EventType::kAutoChurned));
    EXPECT_THAT(timeline.EvaluateAt(Day(2025, 3, 1)).derived_tags,
                Not(Contains(kAutoChurnedTag)));
  }
}

// ------------------------------------------------------- exception (d)

TEST(R6AutoChurnTest, ExceptionD_ChurnReplacesALaterExplicitCancellation) {
  CustomerFacts facts = WorkedExample(2, std::nullopt);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 15) + kSecond)};
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 3, 1));
  EXPECT_EQ(s.status, kCancelled);
  EXPECT_TRUE(s.auto_churned);
  EXPECT_EQ(s.cancelled_at, Day(2025, 2, 15));
  EXPECT_THAT(AllEvents(timeline),
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 2, 15))));
}

TEST(R6AutoChurnTest, ExceptionD_ReplacedCancellationDoesNotDelayReactivation) {
  CustomerFacts facts = WorkedExample(4, std::nullopt);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 20))};
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1)).status, kActive);
  EXPECT_FALSE(HasEvent(AllEvents(timeline), EventType::kCancelled));
}

// ------------------------------------------------------- exception (e)

TEST(R6AutoChurnTest, ExceptionE_SameDayVersusNextDayRenewal) {
  struct Case {
    std::string name;
    int days;
    absl::Time next_start;
    std::optional<absl::Time> churn;  // unset: no churn
  };
  // The renewal stretch starts at Feb 1 00:00; C = Feb 1 + X days.
  const std::vector<Case> cases = {
      {"X=14 renewed one second before C", 14, Day(2025, 2, 15) - kSecond,
       std::nullopt},
      {"X=14 renewed exactly at C", 14, Day(2025, 2, 15), std::nullopt},
      {"X=14 renewed later on C's day", 14, At(2025, 2, 15, 10), std::nullopt},
      {"X=14 renewed at the last second of C's day", 14,
       Day(2025, 2, 16) - kSecond, std::nullopt},
      {"X=14 renewed the next day", 14, Day(2025, 2, 16), Day(2025, 2, 15)},
      {"X=1 renewed on C's day", 1, At(2025, 2, 2, 8), std::nullopt},
      {"X=1 renewed the next day", 1, Day(2025, 2, 3), Day(2025, 2, 2)},
      {"X=90 renewed on C's day", 90, At(2025, 5, 2, 23), std::nullopt},
      {"X=90 renewed the next day", 90, Day(2025, 5, 3), Day(2025, 5, 2)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const CustomerTimeline timeline =
        MustBuild(RenewalGap(c.next_start), AutoChurn(c.days));
    std::vector<SubscriptionEvent> expected = {
        Ev(EventType::kStarted, Day(2025, 1, 1)),
        Ev(EventType::kPastDue, Day(2025, 2, 1))};
    if (c.churn.has_value()) {
      expected.push_back(Ev(EventType::kAutoChurned, *c.churn));
      expected.push_back(Ev(EventType::kReactivated, c.next_start));
    } else {
      expected.push_back(Ev(EventType::kRecovered, c.next_start));
    }
    EXPECT_EQ(SubAt(timeline, c.next_start + Days(1)).events, expected);
    EXPECT_EQ(SubAt(timeline, c.next_start).status, kActive);
  }
}

TEST(R6AutoChurnTest, ExceptionE_RenewalBeforeCOnItsDaySettlesALiveStretch) {
  // February's invoice is never paid (past due from Feb 1 12:00, C = Feb 15
  // 12:00); March's period starts, paid, at 08:00 on C's day, before C.
  // Without (e) the unpaid invoice would keep the stretch live through C.
  CustomerFacts facts;
  facts.invoices = {
      SubInvoice("INV-1", kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                 Day(2025, 1, 1), Day(2025, 1, 1)),
      SubInvoice("INV-2", kSub, Day(2025, 2, 1), At(2025, 2, 15, 8),
                 At(2025, 2, 1, 12), std::nullopt),
      SubInvoice("INV-3", kSub, At(2025, 2, 15, 8), At(2025, 3, 15, 8),
                 At(2025, 2, 15, 8), At(2025, 2, 15, 8)),
  };
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  // (Up to March's end, after which no renewal comes.)
  EXPECT_THAT(SubAt(timeline, Day(2025, 3, 1)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, At(2025, 2, 1, 12)),
                          Ev(EventType::kRecovered, At(2025, 2, 15, 8))));
  EXPECT_EQ(SubAt(timeline, At(2025, 2, 15, 12)).status, kActive);
}

TEST(R6AutoChurnTest, ExceptionE_SameDayRenewalSettlesOlderSignals) {
  // February unpaid forever; C = Feb 1 + 28 days = Mar 1, the day March
  // starts: no churn, and the February invoice is settled at Mar 1.
  const CustomerTimeline timeline =
      MustBuild(WorkedExample(4, std::nullopt), AutoChurn(28));
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1) - kSecond).status, kPastDue);
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1)).status, kActive);
  EXPECT_THAT(SubAt(timeline, Day(2025, 4, 30)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 3, 1))));
}

TEST(R6AutoChurnTest, ExceptionE_SameDayRenewalIntoNewPastDueHasNoEvent) {
  CustomerFacts facts = WorkedExample(4, std::nullopt);
  facts.invoices[2].transactions.clear();  // March unpaid too
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(28));
  const SubscriptionEvaluation s = SubAt(timeline, Day(2025, 3, 1));
  EXPECT_EQ(s.status, kPastDue);
  EXPECT_EQ(s.past_due_since, Day(2025, 2, 1));  // unbroken (R5)
  // The churn clock restarted at the renewal: Mar 1 + 28 days, which the
  // reason announces.
  EXPECT_EQ(s.status_reason,
            "Past due since 2025-02-01: invoice INV-3 (EUR 49.00) is not "
            "paid in full; it auto-churns on 2025-03-29 under this source's "
            "28-day setting.");
  const SubscriptionEvaluation churned = SubAt(timeline, Day(2025, 3, 29));
  EXPECT_EQ(churned.status, kCancelled);
  EXPECT_EQ(churned.status_reason,
            "Automatically cancelled on 2025-03-29 after 28 days past due "
            "(source setting).");
  EXPECT_THAT(SubAt(timeline, Day(2025, 4, 30)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 1)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kAutoChurned, Day(2025, 3, 29)),
                          Ev(EventType::kReactivated, Day(2025, 4, 1))));
}

// R6 (a) and (e) together are not monotone in payments: an unpaid invoice
// can reach a renewal day and be settled there (no churn), while paying it
// early ends that stretch sooner, so a later unpaid invoice starts a stretch
// of its own that churns. Documented in docs/semantics.md (R6, note).
TEST(R6AutoChurnTest,
     ExceptionE_PayingEarlyCanLeadToAChurnTheRenewalWouldSettle) {
  CustomerFacts unpaid;
  unpaid.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 15), 3);
  unpaid.invoices.push_back(SubInvoice("INV-A", kSub, Day(2025, 1, 15),
                                       Day(2025, 2, 15), Day(2025, 2, 1),
                                       std::nullopt));
  unpaid.invoices.push_back(SubInvoice("INV-Z", kSub, Day(2025, 1, 15),
                                       Day(2025, 2, 15), Day(2025, 2, 7),
                                       std::nullopt));
  CustomerFacts paid = unpaid;
  paid.invoices[3].transactions = {Payment(Day(2025, 2, 5))};

  // Unpaid: C = Feb 15 is the day the next period starts: no churn, and
  // INV-A and INV-Z are settled by that renewal.
  const CustomerTimeline before = MustBuild(unpaid, AutoChurn(14));
  EXPECT_THAT(SubAt(before, Day(2025, 4, 1)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 15)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 2, 15))));
  // INV-A paid on Feb 5: INV-Z alone is a stretch from Feb 7; C = Feb 21.
  const CustomerTimeline after = MustBuild(paid, AutoChurn(14));
  EXPECT_THAT(SubAt(after, Day(2025, 4, 1)).events,
              ElementsAre(Ev(EventType::kStarted, Day(2025, 1, 15)),
                          Ev(EventType::kPastDue, Day(2025, 2, 1)),
                          Ev(EventType::kRecovered, Day(2025, 2, 5)),
                          Ev(EventType::kPastDue, Day(2025, 2, 7)),
                          Ev(EventType::kAutoChurned, Day(2025, 2, 21)),
                          Ev(EventType::kReactivated, Day(2025, 3, 15))));
}

}  // namespace
}  // namespace recurrent::engine
