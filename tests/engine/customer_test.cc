// R7 (customer status), R8 (derived tag), validation and the one-shot
// Evaluate() API.
#include <optional>
#include <string>
#include <vector>

#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "engine/evaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::engine {
namespace {

using ::recurrent::testing::IsOk;
using ::recurrent::testing::StatusIs;
using testing::AutoChurn;
using testing::Cancel;
using testing::Day;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::KeepSettings;
using testing::kOtherSource;
using testing::kSecond;
using testing::kSource;
using testing::MonthlyInvoices;
using testing::MustBuild;
using testing::SubAt;
using testing::SubInvoice;

// Two subscriptions of kSource: "good" (paid monthly Jan-Jun 2025) and
// "bad" (February unpaid).
CustomerFacts TwoSubscriptions() {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices("good", absl::CivilDay(2025, 1, 1), 6, "G");
  std::vector<Invoice> bad =
      MonthlyInvoices("bad", absl::CivilDay(2025, 1, 1), 6, "B");
  bad[1].transactions.clear();
  facts.invoices.insert(facts.invoices.end(), bad.begin(), bad.end());
  return facts;
}

// ---------------------------------------------------------------- R7

TEST(R7CustomerStatusTest, StatusTable) {
  struct Case {
    std::string name;
    CustomerFacts facts;
    SettingsMap settings;
    absl::Time t;
    CustomerStatus expected;
  };
  CustomerFacts all_cancelled = TwoSubscriptions();
  all_cancelled.cancellations = {Cancel("good", Day(2025, 1, 10)),
                                 Cancel("bad", Day(2025, 1, 20))};
  CustomerFacts one_cancelled = TwoSubscriptions();
  one_cancelled.cancellations = {Cancel("good", Day(2025, 1, 10))};
  const std::vector<Case> cases = {
      {"no facts", CustomerFacts{}, KeepSettings(), Day(2025, 1, 1),
       CustomerStatus::kLead},
      {"nothing started yet", TwoSubscriptions(), KeepSettings(),
       Day(2025, 1, 1) - kSecond, CustomerStatus::kLead},
      {"all active", TwoSubscriptions(), KeepSettings(), Day(2025, 1, 15),
       CustomerStatus::kActive},
      {"one past due wins over active", TwoSubscriptions(), KeepSettings(),
       Day(2025, 2, 15), CustomerStatus::kPastDue},
      {"auto-churned + active", TwoSubscriptions(), AutoChurn(7),
       Day(2025, 2, 15), CustomerStatus::kActive},
      {"cancelled + active", one_cancelled, KeepSettings(), Day(2025, 1, 15),
       CustomerStatus::kActive},
      {"cancelled + past due", one_cancelled, KeepSettings(), Day(2025, 2, 15),
       CustomerStatus::kPastDue},
      {"all cancelled", all_cancelled, KeepSettings(), Day(2025, 1, 25),
       CustomerStatus::kCancelled},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const CustomerTimeline timeline = MustBuild(c.facts, c.settings);
    EXPECT_EQ(timeline.EvaluateAt(c.t).status, c.expected);
    EXPECT_EQ(timeline.StatusAt(c.t), c.expected);
  }
}

TEST(R7CustomerStatusTest, MergedCustomerJudgesEachSourceByItsOwnSettings) {
  CustomerFacts facts;
  std::vector<Invoice> a =
      MonthlyInvoices("sub", absl::CivilDay(2025, 1, 1), 3, "A");
  std::vector<Invoice> b =
      MonthlyInvoices("sub", absl::CivilDay(2025, 1, 1), 3, "B");
  a[1].transactions.clear();
  b[1].transactions.clear();
  for (Invoice& invoice : b) invoice.data_source_uuid = kOtherSource;
  facts.invoices = a;
  facts.invoices.insert(facts.invoices.end(), b.begin(), b.end());
  SettingsMap settings =
      AutoChurn(7);  // kSource auto-churns, kOtherSource keeps
  const CustomerTimeline timeline = MustBuild(facts, settings);
  const absl::Time t = Day(2025, 2, 10);
  EXPECT_EQ(SubAt(timeline, t, "sub", kSource).status,
            SubscriptionStatus::kCancelled);
  EXPECT_EQ(SubAt(timeline, t, "sub", kOtherSource).status,
            SubscriptionStatus::kPastDue);
  EXPECT_EQ(timeline.EvaluateAt(t).status, CustomerStatus::kPastDue);

  settings[kOtherSource] =
      SourceSettings{PastDueMode::kAutoChurn, 7, absl::InfinitePast()};
  EXPECT_EQ(MustBuild(facts, settings).EvaluateAt(t).status,
            CustomerStatus::kCancelled);
}

// ---------------------------------------------------------------- R8

TEST(R8DerivedTagTest, TagFromFirstChurnOnAndKeptAfterReactivation) {
  const CustomerTimeline timeline = MustBuild(TwoSubscriptions(), AutoChurn(7));
  EXPECT_THAT(timeline.EvaluateAt(Day(2025, 2, 8) - kSecond).derived_tags,
              IsEmpty());
  EXPECT_THAT(timeline.EvaluateAt(Day(2025, 2, 8)).derived_tags,
              ElementsAre(std::string(kAutoChurnedTag)));
  // "bad" is reactivated on Mar 1; the churn stays in its history.
  EXPECT_EQ(SubAt(timeline, Day(2025, 3, 1), "bad").status,
            SubscriptionStatus::kActive);
  EXPECT_THAT(timeline.EvaluateAt(Day(2025, 3, 1)).derived_tags,
              ElementsAre(std::string(kAutoChurnedTag)));
}

TEST(R8DerivedTagTest, SettingsChangeThatRemovesEveryChurnRemovesTheTag) {
  const absl::Time t = Day(2025, 3, 15);
  EXPECT_THAT(
      MustBuild(TwoSubscriptions(), AutoChurn(7)).EvaluateAt(t).derived_tags,
      ElementsAre(std::string(kAutoChurnedTag)));
  EXPECT_THAT(
      MustBuild(TwoSubscriptions(), KeepSettings()).EvaluateAt(t).derived_tags,
      IsEmpty());
  // Paying the invoice removes the churn, and with it the tag (R6 a).
  CustomerFacts paid = TwoSubscriptions();
  paid.invoices[7].transactions = {testing::Payment(Day(2025, 2, 20))};
  EXPECT_THAT(MustBuild(paid, AutoChurn(7)).EvaluateAt(t).derived_tags,
              IsEmpty());
}

// ------------------------------------------------- next_transition_at

TEST(NextTransitionTest, IsTheNextChangeOfAnySubscription) {
  const CustomerTimeline timeline = MustBuild(TwoSubscriptions(), AutoChurn(7));
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 1, 15)).next_transition_at,
            Day(2025, 2, 1));  // both enter a new period; "bad" past due
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 2, 1)).next_transition_at,
            Day(2025, 2, 8));  // "bad" churns
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 2, 8)).next_transition_at,
            Day(2025, 3, 1));
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 7, 8)).next_transition_at,
            std::nullopt);  // both churned for good on Jul 8
}

// ---------------------------------------------------------- validation

TEST(ValidationTest, RejectsMalformedFacts) {
  CustomerFacts inverted;
  inverted.invoices = {SubInvoice("INV-9", "s", Day(2025, 2, 1),
                                  Day(2025, 1, 1), std::nullopt, std::nullopt)};
  EXPECT_THAT(CustomerTimeline::Build(inverted, KeepSettings()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invoices[0] (INV-9).line_items[0]: "
                                 "service_period_end")));

  CustomerFacts no_sub = inverted;
  no_sub.invoices[0].line_items[0].service_period_end = Day(2025, 3, 1);
  no_sub.invoices[0].line_items[0].subscription_external_id.clear();
  EXPECT_THAT(ValidateFacts(no_sub),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("subscription_external_id")));

  CustomerFacts negative = TwoSubscriptions();
  negative.invoices[3].transactions[0].amount_in_cents = -1;
  EXPECT_THAT(ValidateFacts(negative),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invoices[3] (INV-G4).transactions[0]")));

  CustomerFacts infinite = TwoSubscriptions();
  infinite.cancellations = {Cancel("good", absl::InfiniteFuture())};
  EXPECT_THAT(ValidateFacts(infinite),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cancellations[0]")));

  EXPECT_THAT(ValidateFacts(TwoSubscriptions()), IsOk());
}

TEST(ValidationTest, RejectsBadSettingsOfAUsedSource) {
  for (int days : {0, 91, -3}) {
    SCOPED_TRACE(days);
    EXPECT_THAT(CustomerTimeline::Build(TwoSubscriptions(), AutoChurn(days)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("auto_churn_after_days")));
  }
  // A source without subscriptions is not consulted.
  EXPECT_THAT(
      CustomerTimeline::Build(TwoSubscriptions(),
                              AutoChurn(0, absl::InfinitePast(), "ds_unused")),
      IsOk());
  EXPECT_THAT(CustomerTimeline::Build(TwoSubscriptions(), AutoChurn(1)),
              IsOk());
  EXPECT_THAT(CustomerTimeline::Build(TwoSubscriptions(), AutoChurn(90)),
              IsOk());
}

// ------------------------------------------------------------ Evaluate

TEST(EvaluateTest, OneShotEqualsTimelineEvaluation) {
  const absl::Time t = Day(2025, 2, 10);
  absl::StatusOr<CustomerEvaluation> evaluation =
      Evaluate(TwoSubscriptions(), AutoChurn(14), t);
  ASSERT_THAT(evaluation, IsOk());
  EXPECT_EQ(*evaluation,
            MustBuild(TwoSubscriptions(), AutoChurn(14)).EvaluateAt(t));
  EXPECT_EQ(evaluation->evaluated_at, t);
  ASSERT_EQ(evaluation->subscriptions.size(), 2u);
  EXPECT_EQ(evaluation->subscriptions[0].subscription_external_id, "bad");
  EXPECT_EQ(evaluation->subscriptions[1].subscription_external_id, "good");
  EXPECT_THAT(Evaluate(TwoSubscriptions(), AutoChurn(0), t),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EvaluateTest, CancellationOfUnknownSubscriptionIsIgnored) {
  CustomerFacts facts = TwoSubscriptions();
  facts.cancellations = {Cancel("nope", Day(2025, 1, 5))};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  EXPECT_EQ(timeline.subscriptions().size(), 2u);
  EXPECT_EQ(timeline.EvaluateAt(Day(2025, 1, 10)),
            MustBuild(TwoSubscriptions(), KeepSettings())
                .EvaluateAt(Day(2025, 1, 10)));
}

}  // namespace
}  // namespace recurrent::engine
