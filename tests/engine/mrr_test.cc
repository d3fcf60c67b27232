// M1-M6: MRR and MRR movements (engine/mrr.h), with exact cents.
#include "engine/mrr.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/random_history.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {

inline void PrintTo(MrrMovementType type, std::ostream* os) {
  *os << MrrMovementTypeName(type);
}
inline void PrintTo(const MrrMovement& m, std::ostream* os) {
  *os << MrrMovementTypeName(m.type) << "{" << m.data_source_uuid << " "
      << m.currency << " @"
      << absl::FormatTime("%Y-%m-%d %H:%M:%S", m.occurred_at,
                          absl::UTCTimeZone())
      << " " << m.mrr_change_in_cents << " -> " << m.mrr_after_in_cents << "}";
}
inline void PrintTo(const MrrAmount& a, std::ostream* os) {
  *os << a.currency << " " << a.mrr_in_cents;
}

namespace {

using testing::AutoChurn;
using testing::Cancel;
using testing::Day;
using testing::Days;
using testing::KeepSettings;
using testing::kOtherSource;
using testing::kSecond;
using testing::kSource;
using testing::kSub;
using testing::MonthlyInvoices;
using testing::MustBuild;
using testing::Payment;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr MrrMovementType kNew = MrrMovementType::kNewBusiness;
constexpr MrrMovementType kExpansion = MrrMovementType::kExpansion;
constexpr MrrMovementType kContraction = MrrMovementType::kContraction;
constexpr MrrMovementType kChurn = MrrMovementType::kChurn;
constexpr MrrMovementType kReactivation = MrrMovementType::kReactivation;

LineItem Item(std::string sub, absl::Time start, absl::Time end, int64_t cents,
              int64_t tax = 0, bool prorated = false) {
  LineItem item = testing::SubscriptionItem(std::move(sub), start, end, cents);
  item.tax_amount_in_cents = tax;
  item.prorated = prorated;
  return item;
}

// An invoice due at its first line item's start and paid then.
Invoice Inv(std::string id, std::vector<LineItem> items,
            std::string currency = "EUR", std::string source = kSource) {
  Invoice invoice;
  invoice.data_source_uuid = std::move(source);
  invoice.external_id = std::move(id);
  invoice.currency = std::move(currency);
  invoice.due_date = items.front().service_period_start;
  invoice.transactions.push_back(Payment(*invoice.due_date));
  invoice.line_items = std::move(items);
  return invoice;
}

MrrTimeline MustCompute(const CustomerFacts& facts,
                        const SettingsMap& settings = KeepSettings()) {
  return MrrTimeline::Build(facts, MustBuild(facts, settings));
}

// MRR of (kSource, sub) at t, in cents.
int64_t SubMrr(const MrrTimeline& mrr, absl::Time t,
               const std::string& sub = kSub) {
  const std::optional<MrrAmount> amount =
      mrr.SubscriptionMrrAt(kSource, sub, t);
  EXPECT_TRUE(amount.has_value()) << sub;
  return amount.has_value() ? amount->mrr_in_cents : -1;
}

MrrMovement Mv(MrrMovementType type, absl::Time at, int64_t change,
               int64_t after, std::string currency = "EUR",
               std::string source = kSource) {
  return MrrMovement{type, std::move(source), std::move(currency), at, change,
                     after};
}

// ---------------------------------------------------------------- M1

TEST(M1LineItemMrrTest, MonthsTable) {
  struct Case {
    absl::Time start, end;
    int64_t net;
    int64_t want;
  };
  const Case cases[] = {
      // Whole calendar months.
      {Day(2025, 1, 1), Day(2025, 2, 1), 4900, 4900},
      {Day(2025, 2, 1), Day(2025, 3, 1), 4900, 4900},  // 28 days, 1 month
      {Day(2025, 1, 31), Day(2025, 2, 28), 4900, 4900},  // clamped
      {Day(2024, 1, 31), Day(2024, 2, 29), 4900, 4900},  // clamped, leap
      {Day(2025, 1, 31), Day(2025, 4, 30), 30000, 10000},  // quarter, clamped
      {testing::At(2025, 1, 5, 13, 7), testing::At(2025, 2, 5, 13, 7), 999,
       999},
      // Not whole: (e - s) / 30.436875 days.
      {Day(2025, 1, 1), Day(2025, 1, 31), 4900, 4971},  // 4971.35
      {Day(2025, 2, 28), Day(2025, 3, 31), 4900, 4811},  // 4810.99
      {Day(2025, 1, 1), Day(2025, 2, 1) + kSecond, 100000, 98183},  // 31 d 1 s
      {Day(2025, 1, 1), Day(2025, 1, 11), 1000, 3044},  // 10 days: 3043.69
      // Half away from zero.
      {Day(2025, 1, 1), Day(2025, 3, 1), 1001, 501},
      {Day(2025, 1, 1), Day(2025, 3, 1), -1001, -501},
      {Day(2025, 1, 1), Day(2025, 3, 1), 1003, 502},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LineItemMrrInCents(c.net, c.start, c.end), c.want)
        << absl::FormatTime(c.start, absl::UTCTimeZone()) << " .. "
        << absl::FormatTime(c.end, absl::UTCTimeZone());
  }
}

TEST(M1LineItemMrrTest, AnnualIsTwelfth) {
  CustomerFacts facts;
  facts.invoices = {Inv("INV-1", {Item(kSub, Day(2025, 3, 1),
                                       Day(2026, 3, 1), 120000)})};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 3, 1)), 10000);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 12, 31)), 10000);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 3, 1) - kSecond), 0);
}

TEST(M1LineItemMrrTest, Quarterly) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 4, 1), 29900)}),
      Inv("INV-2", {Item(kSub, Day(2025, 4, 1), Day(2025, 7, 1), 30000)})};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 2, 1)), 9967);  // 9966.67
  EXPECT_EQ(SubMrr(mrr, Day(2025, 4, 1)), 10000);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 9967, 9967),
                          Mv(kExpansion, Day(2025, 4, 1), 33, 10000)));
}

// ChartMogul's prorated upgrade: Bronze $100 for Jun 1 - Jul 1; on Jun 16 a
// Gold charge of $125 and a Bronze credit of -$50, both for Jun 16 - Jul 1
// and prorated: MRR $250 from Jun 16.
TEST(M1LineItemMrrTest, BronzeToGoldProratedUpgrade) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 6, 1), Day(2025, 7, 1), 10000)}),
      Inv("INV-2",
          {Item(kSub, Day(2025, 6, 16), Day(2025, 7, 1), 12500, 0, true),
           Item(kSub, Day(2025, 6, 16), Day(2025, 7, 1), -5000, 0, true)})};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 6, 15)), 10000);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 6, 16)), 25000);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 7, 1) - kSecond), 25000);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 6, 1), 10000, 10000),
                          Mv(kExpansion, Day(2025, 6, 16), 15000, 25000)));
}

// A 10-day prorated line is scaled to the 31-day month it falls in; without
// a full period containing its start it is (e - s) / 30.436875 days.
TEST(M1LineItemMrrTest, TenDayProratedLine) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 3100)}),
      Inv("INV-2",
          {Item(kSub, Day(2025, 1, 22), Day(2025, 2, 1), 1000, 0, true)}),
      // A prorated line of another subscription with no full period.
      Inv("INV-3",
          {Item("sub_2", Day(2025, 1, 22), Day(2025, 2, 1), 1000, 0, true)})};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 21)), 3100);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 22)), 6200);  // 3100 + 1000 * 31 / 10
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 22), "sub_2"), 3044);  // 3043.69
}

TEST(M1LineItemMrrTest, TaxExcluded) {
  CustomerFacts facts;
  facts.invoices = {Inv(
      "INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 11900, 1900)})};
  EXPECT_EQ(SubMrr(MustCompute(facts), Day(2025, 1, 1)), 10000);
}

// amount_in_cents is the line total after discounts (ChartMogul's Import
// API); the discount amount and quantity are informational and are not even
// engine facts: a $100 plan with a $20 discount, quantity 4, is $80.
TEST(M1LineItemMrrTest, DiscountAndQuantityAreInformational) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 8000)})};
  EXPECT_EQ(SubMrr(MustCompute(facts), Day(2025, 1, 1)), 8000);
}

// Rounding is per subscription: its items' exact contributions are summed,
// then rounded (33.33 + 33.33 = 66.67 -> 67, not 33 + 33).
TEST(M1LineItemMrrTest, RoundedPerSubscriptionAfterSumming) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 4, 1), 100),
                    Item(kSub, Day(2025, 1, 1), Day(2025, 4, 1), 100)})};
  EXPECT_EQ(SubMrr(MustCompute(facts), Day(2025, 1, 1)), 67);
}

TEST(M1LineItemMrrTest, TrialAndOneTimeContributeNothing) {
  CustomerFacts facts;
  Invoice invoice =
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)});
  LineItem trial = Item(kSub, Day(2024, 12, 1), Day(2025, 2, 1), 700);
  trial.type = LineItemType::kTrial;
  LineItem one_time = Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 900);
  one_time.type = LineItemType::kOneTime;
  invoice.line_items.push_back(trial);
  invoice.line_items.push_back(one_time);
  facts.invoices = {invoice};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2024, 12, 15)), 0);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 1)), 4900);
}

TEST(M1LineItemMrrTest, TaxIsValidated) {
  CustomerFacts facts;
  facts.invoices = {Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1),
                                       4900, kMaxAmountInCents + 1)})};
  EXPECT_EQ(ComputeMrr(facts, KeepSettings()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- M2

TEST(M2SubscriptionMrrTest, ZeroBeforeStartAndWhileCancelled) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 4);
  facts.cancellations = {Cancel(kSub, Day(2025, 2, 10))};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 1) - kSecond), 0);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 1, 1)), 4900);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 2, 10) - kSecond), 4900);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 2, 10)), 0);     // CANCELLED
  EXPECT_EQ(SubMrr(mrr, Day(2025, 3, 1)), 4900);   // REACTIVATED
  EXPECT_EQ(SubMrr(mrr, Day(2025, 5, 1)), 4900);   // past due: kept (R3 b)
}

// A missing renewal (R3 b) makes the subscription PAST_DUE with no line item
// covering t: it keeps the MRR of the last covered instant.
TEST(M2SubscriptionMrrTest, MissingRenewalKeepsMrr) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item(kSub, Day(2025, 4, 1), Day(2025, 5, 1), 9900)})};
  const CustomerTimeline timeline = MustBuild(facts, KeepSettings());
  const MrrTimeline mrr = MrrTimeline::Build(facts, timeline);
  EXPECT_EQ(testing::SubAt(timeline, Day(2025, 3, 1)).status,
            testing::kPastDue);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 3, 1)), 4900);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 4, 1)), 9900);
  EXPECT_EQ(SubMrr(mrr, Day(2026, 1, 1)), 9900);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kExpansion, Day(2025, 4, 1), 5000, 9900)));
}

TEST(M2SubscriptionMrrTest, PastDueOnAnUnpaidInvoiceCounts) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 3);
  facts.invoices[1].transactions.clear();
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(SubMrr(mrr, Day(2025, 2, 15)), 4900);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900)));
}

TEST(M2SubscriptionMrrTest, CurrencyIsTheInvoices) {
  CustomerFacts facts;
  facts.invoices = {Inv("INV-1",
                        {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)},
                        "USD")};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_EQ(mrr.SubscriptionMrrAt(kSource, kSub, Day(2025, 1, 1)),
            (MrrAmount{"USD", 4900}));
  // Also before it starts and after it ends: the currency, with 0.
  facts.cancellations = {Cancel(kSub, Day(2025, 1, 15))};
  EXPECT_EQ(MustCompute(facts).SubscriptionMrrAt(kSource, kSub,
                                                  Day(2025, 1, 20)),
            (MrrAmount{"USD", 0}));
  EXPECT_EQ(mrr.SubscriptionMrrAt(kSource, kSub, Day(2024, 1, 1)),
            (MrrAmount{"USD", 0}));
  EXPECT_EQ(mrr.SubscriptionMrrAt(kSource, "nope", Day(2025, 1, 1)),
            std::nullopt);
}

// ---------------------------------------------------------------- M3

TEST(M3CustomerMrrTest, SumPerSourceAndCurrency) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item("a", Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item("b", Day(2025, 1, 1), Day(2026, 1, 1), 120000)}),
      Inv("INV-3", {Item("c", Day(2025, 1, 1), Day(2025, 2, 1), 1500)},
          "USD"),
      Inv("INV-4", {Item("d", Day(2025, 1, 1), Day(2025, 2, 1), 700)}, "EUR",
          kOtherSource)};
  const MrrTimeline mrr = MustCompute(facts);
  const absl::Time t = Day(2025, 1, 10);
  EXPECT_THAT(mrr.CustomerMrrAt(t, kSource),
              ElementsAre(MrrAmount{"EUR", 14900}, MrrAmount{"USD", 1500}));
  EXPECT_THAT(mrr.CustomerMrrAt(t, kOtherSource),
              ElementsAre(MrrAmount{"EUR", 700}));
  EXPECT_THAT(mrr.CustomerMrrAt(t),
              ElementsAre(MrrAmount{"EUR", 15600}, MrrAmount{"USD", 1500}));
  EXPECT_THAT(mrr.CustomerMrrAt(Day(2024, 1, 1)), IsEmpty());
  ASSERT_EQ(mrr.sources().size(), 3u);
  EXPECT_EQ(mrr.sources()[0].data_source_uuid, kSource);
  EXPECT_EQ(mrr.sources()[0].currency, "EUR");
  EXPECT_THAT(mrr.sources()[0].steps, ElementsAre(MrrStep{Day(2025, 1, 1),
                                                          14900}));
}

TEST(M3CustomerMrrTest, SumsOfHugeSubscriptionsSaturateAndComeBackToZero) {
  // Two subscriptions of one source and currency, each with a one-minute
  // period of the largest amount: each one's MRR is clamped to the int64
  // range, and so is their sum (it was a signed overflow: a negative MRR);
  // when both are cancelled, the sum is zero again. A third in another source
  // makes the sum over all sources saturate too.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const absl::Time start = Day(2025, 1, 1);
  const absl::Time end = start + absl::Minutes(1);
  CustomerFacts facts;
  facts.invoices = {Inv("INV-1", {Item("a", start, end, kMaxAmountInCents)}),
                    Inv("INV-2", {Item("b", start, end, kMaxAmountInCents)}),
                    Inv("INV-3", {Item("c", start, end, kMaxAmountInCents)},
                        "EUR", kOtherSource)};
  facts.cancellations = {Cancel("a", end), Cancel("b", end)};
  const MrrTimeline mrr = MustCompute(facts);
  ASSERT_EQ(SubMrr(mrr, start, "a"), kMax);
  EXPECT_THAT(mrr.CustomerMrrAt(start, kSource),
              ElementsAre(MrrAmount{"EUR", kMax}));
  EXPECT_THAT(mrr.CustomerMrrAt(start), ElementsAre(MrrAmount{"EUR", kMax}));
  ASSERT_FALSE(mrr.sources().empty());
  EXPECT_EQ(mrr.sources()[0].data_source_uuid, kSource);
  EXPECT_THAT(mrr.sources()[0].steps,
              ElementsAre(MrrStep{start, kMax}, MrrStep{end, 0}));
  for (const MrrMovement& movement : mrr.movements()) {
    EXPECT_GE(movement.mrr_after_in_cents, 0)
        << ::testing::PrintToString(movement);
  }
}

// ---------------------------------------------------------------- M4

TEST(M4MovementsTest, AllTypesInOrder) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item(kSub, Day(2025, 2, 1), Day(2025, 3, 1), 9900)}),
      Inv("INV-3", {Item(kSub, Day(2025, 3, 1), Day(2025, 4, 1), 2900)}),
      Inv("INV-4", {Item(kSub, Day(2025, 6, 1), Day(2025, 7, 1), 2900)})};
  facts.cancellations = {Cancel(kSub, Day(2025, 3, 20))};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kExpansion, Day(2025, 2, 1), 5000, 9900),
                          Mv(kContraction, Day(2025, 3, 1), -7000, 2900),
                          Mv(kChurn, Day(2025, 3, 20), -2900, 0),
                          Mv(kReactivation, Day(2025, 6, 1), 2900, 2900)));
  EXPECT_THAT(mrr.MovementsIn(Day(2025, 2, 1), Day(2025, 3, 20)),
              ElementsAre(Mv(kContraction, Day(2025, 3, 1), -7000, 2900),
                          Mv(kChurn, Day(2025, 3, 20), -2900, 0)));
}

TEST(M4MovementsTest, MoveToAZeroPlanIsContraction) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item(kSub, Day(2025, 2, 1), Day(2025, 3, 1), 0)})};
  const MrrTimeline mrr = MustCompute(facts);
  EXPECT_THAT(mrr.movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kContraction, Day(2025, 2, 1), -4900, 0)));
}

TEST(M4MovementsTest, TwoSubscriptionsOneCancelledThenBoth) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item("a", Day(2025, 1, 1), Day(2026, 1, 1), 120000),
                    Item("b", Day(2025, 1, 1), Day(2026, 1, 1), 60000)})};
  facts.cancellations = {Cancel("a", Day(2025, 3, 1))};
  EXPECT_THAT(MustCompute(facts).movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 15000, 15000),
                          Mv(kContraction, Day(2025, 3, 1), -10000, 5000)));
  facts.cancellations.push_back(Cancel("b", Day(2025, 4, 1)));
  EXPECT_THAT(MustCompute(facts).movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 15000, 15000),
                          Mv(kContraction, Day(2025, 3, 1), -10000, 5000),
                          Mv(kChurn, Day(2025, 4, 1), -5000, 0)));
}

// All changes at one instant are netted: a plan change that ends one
// subscription and starts another at the same price is no movement.
TEST(M4MovementsTest, ChangesAtOneInstantAreNetted) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item("a", Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item("b", Day(2025, 2, 1), Day(2025, 3, 1), 4900)}),
      Inv("INV-3", {Item("c", Day(2025, 3, 1), Day(2025, 4, 1), 5900)})};
  facts.cancellations = {Cancel("a", Day(2025, 2, 1)),
                         Cancel("b", Day(2025, 3, 1))};
  EXPECT_THAT(MustCompute(facts).movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kExpansion, Day(2025, 3, 1), 1000, 5900)));
}

// Movements are per data source and currency: the first MRR in each is
// NEW_BUSINESS.
TEST(M4MovementsTest, PerSourceAndCurrency) {
  CustomerFacts facts;
  facts.invoices = {
      Inv("INV-1", {Item("a", Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
      Inv("INV-2", {Item("b", Day(2025, 1, 1), Day(2025, 2, 1), 1500)},
          "USD"),
      Inv("INV-3", {Item("c", Day(2025, 1, 5), Day(2025, 2, 5), 700)}, "EUR",
          kOtherSource)};
  facts.cancellations = {Cancel("c", Day(2025, 1, 20), kOtherSource)};
  EXPECT_THAT(
      MustCompute(facts).movements(),
      ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                  Mv(kNew, Day(2025, 1, 1), 1500, 1500, "USD"),
                  Mv(kNew, Day(2025, 1, 5), 700, 700, "EUR", kOtherSource),
                  Mv(kChurn, Day(2025, 1, 20), -700, 0, "EUR",
                     kOtherSource)));
}

// ---------------------------------------------------------------- M5

// The worked example of R6: monthly from Jan 1, February's invoice unpaid.
CustomerFacts FebruaryUnpaid(std::optional<absl::Time> paid) {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 3);
  facts.invoices[1].transactions.clear();
  if (paid.has_value()) {
    facts.invoices[1].transactions.push_back(Payment(*paid));
  }
  return facts;
}

TEST(M5DerivedTest, AutoChurnIsChurnAndItsReversalRemovesIt) {
  const CustomerFacts facts = FebruaryUnpaid(std::nullopt);
  absl::StatusOr<MrrTimeline> churned = ComputeMrr(facts, AutoChurn(14));
  ASSERT_TRUE(churned.ok()) << churned.status();
  EXPECT_THAT(churned->movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kChurn, Day(2025, 2, 15), -4900, 0),
                          Mv(kReactivation, Day(2025, 3, 1), 4900, 4900),
                          // The renewal missing from Apr 1 churns too.
                          Mv(kChurn, Day(2025, 4, 15), -4900, 0)));
  // Settings back to KEEP: recomputed, the churn is gone.
  absl::StatusOr<MrrTimeline> kept = ComputeMrr(facts, KeepSettings());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_THAT(kept->movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900)));
  // And AUTO_CHURN again gives the first result exactly.
  EXPECT_EQ(ComputeMrr(facts, AutoChurn(14))->movements(),
            churned->movements());
}

TEST(M5DerivedTest, LatePaymentRemovesChurnAndReactivation) {
  // Paid on Mar 20, after the churn date: the churn is cured (R6 a).
  absl::StatusOr<MrrTimeline> mrr =
      ComputeMrr(FebruaryUnpaid(Day(2025, 3, 20)), AutoChurn(14));
  ASSERT_TRUE(mrr.ok()) << mrr.status();
  EXPECT_THAT(mrr->movements(),
              ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                          Mv(kChurn, Day(2025, 4, 15), -4900, 0)));
  EXPECT_EQ(SubMrr(*mrr, Day(2025, 2, 20)), 4900);
}

// R6 e: a renewal on the churn's day drops the churn; no movement at all.
// The next day it does not: CHURN, then REACTIVATION at the renewal.
TEST(M5DerivedTest, SameDayRenewalThatDropsAChurnLeavesNoMovement) {
  // [Jan 1, Feb 1), then a month from `next_start`: the renewal signal from
  // Feb 1 would churn at Feb 15 00:00.
  auto facts = [](absl::Time next_start, absl::Time next_end) {
    CustomerFacts f;
    f.invoices = {
        Inv("INV-1", {Item(kSub, Day(2025, 1, 1), Day(2025, 2, 1), 4900)}),
        Inv("INV-2", {Item(kSub, next_start, next_end, 4900)})};
    return f;
  };
  const absl::Time same_day = testing::At(2025, 2, 15, 10);
  EXPECT_THAT(
      ComputeMrr(facts(same_day, testing::At(2025, 3, 15, 10)), AutoChurn(14))
          ->movements(),
      ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                  // The renewal missing after the last period.
                  Mv(kChurn, testing::At(2025, 3, 29, 10), -4900, 0)));
  const absl::Time next_day = Day(2025, 2, 16);
  EXPECT_THAT(
      ComputeMrr(facts(next_day, Day(2025, 3, 16)), AutoChurn(14))
          ->movements(),
      ElementsAre(Mv(kNew, Day(2025, 1, 1), 4900, 4900),
                  Mv(kChurn, Day(2025, 2, 15), -4900, 0),
                  Mv(kReactivation, next_day, 4900, 4900),
                  Mv(kChurn, Day(2025, 3, 30), -4900, 0)));
}

// ---------------------------------------------------------------- M6

// Varies the money of a random history: amounts, tax, prorated lines,
// currencies (now and then a subscription switches to USD).
void RandomizeMoney(testing::Random& r, CustomerFacts* facts) {
  std::map<std::string, std::string> currency;  // by subscription
  for (Invoice& invoice : facts->invoices) {
    const std::string sub = invoice.line_items.front().subscription_external_id;
    if (currency.count(sub) == 0 || r.Chance(0.05)) {
      currency[sub] = r.Chance(0.8) ? "EUR" : "USD";
    }
    invoice.currency = currency[sub];
    for (LineItem& item : invoice.line_items) {
      if (item.type != LineItemType::kSubscription) continue;
      if (r.Chance(0.5)) item.amount_in_cents = r.Uniform(-500, 30000);
      if (r.Chance(0.3)) item.tax_amount_in_cents = r.Uniform(0, 3000);
    }
    if (r.Chance(0.2)) {  // a prorated change inside the first period
      const LineItem& first = invoice.line_items.front();
      const absl::Duration length =
          first.service_period_end - first.service_period_start;
      const absl::Time start =
          first.service_period_start + length * r.Uniform(0, 9) / 10;
      LineItem change = first;
      change.type = LineItemType::kSubscription;
      change.service_period_start = start;
      change.prorated = true;
      change.amount_in_cents = r.Uniform(-5000, 15000);
      change.tax_amount_in_cents = 0;
      invoice.line_items.push_back(change);
    }
  }
}

// A naive reading of M1 in long double: the MRR of (source, sub) in
// `currency` from the line items covering t, or nullopt if none does.
std::optional<long double> NaiveCovering(const CustomerFacts& facts,
                                         const std::string& source,
                                         const std::string& sub,
                                         const std::string& currency,
                                         absl::Time t) {
  auto months = [](absl::Time s, absl::Time e) -> long double {
    for (int k = 1; k <= 1200; ++k) {
      const absl::CivilSecond cs = absl::ToCivilSecond(s, absl::UTCTimeZone());
      const absl::CivilMonth m = absl::CivilMonth(cs) + k;
      const int last = (absl::CivilDay(m + 1) - 1).day();
      const absl::Time target = absl::FromCivil(
          absl::CivilSecond(m.year(), m.month(), std::min(cs.day(), last),
                            cs.hour(), cs.minute(), cs.second()),
          absl::UTCTimeZone());
      if (target == e) return k;
      if (target > e) break;
    }
    return absl::FDivDuration(e - s, absl::Hours(24)) / 30.436875L;
  };
  std::vector<const LineItem*> items;
  std::vector<const Invoice*> invoices;
  for (const Invoice& invoice : facts.invoices) {
    if (invoice.data_source_uuid != source) continue;
    for (const LineItem& item : invoice.line_items) {
      if (item.type == LineItemType::kSubscription &&
          item.subscription_external_id == sub) {
        items.push_back(&item);
        invoices.push_back(&invoice);
      }
    }
  }
  bool covered = false;
  long double sum = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const LineItem& item = *items[i];
    if (t < item.service_period_start || item.service_period_end <= t) continue;
    covered = true;
    if (invoices[i]->currency != currency) continue;
    const long double net = item.amount_in_cents - item.tax_amount_in_cents;
    const LineItem* full = nullptr;
    for (const LineItem* p : items) {
      if (item.prorated && !p->prorated &&
          p->service_period_start <= item.service_period_start &&
          item.service_period_start < p->service_period_end &&
          (full == nullptr ||
           std::tie(p->service_period_start, p->service_period_end) >
               std::tie(full->service_period_start,
                        full->service_period_end))) {
        full = p;
      }
    }
    if (full == nullptr) {
      sum += net / months(item.service_period_start, item.service_period_end);
    } else {
      sum += net *
             absl::FDivDuration(
                 full->service_period_end - full->service_period_start,
                 item.service_period_end - item.service_period_start) /
             months(full->service_period_start, full->service_period_end);
    }
  }
  if (!covered) return std::nullopt;
  return sum;
}

// M1 and M2 against the naive reading at every line-item boundary and
// status change (and around them) of random histories. Where the exact sum
// is within 1e-6 cent of a half cent, either neighbour is accepted.
TEST(M2SubscriptionMrrTest, MatchesANaiveReadingOnRandomHistories) {
  int compared = 0;
  for (int seed = 0; seed < testing::Seeds(); ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    testing::Random r(seed);
    const SettingsMap settings = testing::RandomSettings(r);
    CustomerFacts facts = testing::RandomFacts(r, settings);
    RandomizeMoney(r, &facts);
    const CustomerTimeline timeline = MustBuild(facts, settings);
    const MrrTimeline mrr = MrrTimeline::Build(facts, timeline);
    for (const SubscriptionMrr& s : mrr.subscriptions()) {
      const CustomerTimeline::Subscription* sub = nullptr;
      for (const CustomerTimeline::Subscription& x : timeline.subscriptions()) {
        if (x.data_source_uuid == s.data_source_uuid &&
            x.subscription_external_id == s.subscription_external_id) {
          sub = &x;
        }
      }
      ASSERT_NE(sub, nullptr);
      std::vector<absl::Time> instants;
      std::vector<absl::Time> ends;  // of its line items, for the hold
      for (const Invoice& invoice : facts.invoices) {
        for (const LineItem& item : invoice.line_items) {
          if (invoice.data_source_uuid != s.data_source_uuid ||
              item.subscription_external_id != s.subscription_external_id ||
              item.type != LineItemType::kSubscription) {
            continue;
          }
          instants.push_back(item.service_period_start);
          instants.push_back(item.service_period_end);
          ends.push_back(item.service_period_end);
        }
      }
      for (const SubscriptionEvent& e : sub->timeline.events()) {
        instants.push_back(e.occurred_at);
      }
      std::sort(ends.begin(), ends.end());
      for (absl::Time base : std::vector<absl::Time>(instants)) {
        for (absl::Time t : {base - kSecond, base, base + kSecond}) {
          const SubscriptionStatus status = sub->timeline.StatusAt(t);
          std::optional<long double> want;
          if (status == SubscriptionStatus::kActive ||
              status == SubscriptionStatus::kPastDue) {
            want = NaiveCovering(facts, s.data_source_uuid,
                                 s.subscription_external_id, s.currency, t);
            if (!want.has_value()) {
              // A gap: the MRR of the instant before the latest end <= t.
              auto it = std::upper_bound(ends.begin(), ends.end(), t);
              want = it == ends.begin()
                         ? 0
                         : NaiveCovering(facts, s.data_source_uuid,
                                         s.subscription_external_id,
                                         s.currency,
                                         *std::prev(it) - absl::Nanoseconds(1))
                               .value_or(0);
            }
          }
          const long double v = std::max<long double>(0, want.value_or(0));
          const int64_t got = MrrAt(s.steps, t);
          const long double frac = v - std::floor(v);
          if (std::fabs(frac - 0.5L) < 1e-6L) {
            ASSERT_TRUE(got == static_cast<int64_t>(std::floor(v)) ||
                        got == static_cast<int64_t>(std::ceil(v)))
                << got << " vs " << static_cast<double>(v);
          } else {
            ASSERT_EQ(got, static_cast<int64_t>(std::llround(v)))
                << s.subscription_external_id << " " << s.currency << " at "
                << absl::FormatTime(t, absl::UTCTimeZone())
                << " naive=" << static_cast<double>(v);
          }
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, testing::Seeds());
}

TEST(M6IdentityTest, StartPlusMovementsIsEndOnRandomHistories) {
  int movements = 0;
  for (int seed = 0; seed < testing::Seeds(); ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    testing::Random r(seed);
    const SettingsMap settings = testing::RandomSettings(r);
    CustomerFacts facts = testing::RandomFacts(r, settings);
    RandomizeMoney(r, &facts);
    const CustomerTimeline timeline = MustBuild(facts, settings);
    const MrrTimeline mrr = MrrTimeline::Build(facts, timeline);
    movements += static_cast<int>(mrr.movements().size());

    // Instants: every step and movement, with neighbours.
    std::vector<absl::Time> instants = {absl::InfinitePast(),
                                        absl::InfiniteFuture()};
    for (const SourceMrr& s : mrr.sources()) {
      for (const MrrStep& step : s.steps) {
        for (absl::Time t : {step.from - kSecond, step.from,
                             step.from + kSecond}) {
          instants.push_back(t);
        }
      }
    }
    std::sort(instants.begin(), instants.end());
    instants.erase(std::unique(instants.begin(), instants.end()),
                   instants.end());

    for (const SourceMrr& s : mrr.sources()) {
      // Step lists are well formed: increasing, consecutive values differ,
      // never negative.
      int64_t previous = 0;
      for (size_t i = 0; i < s.steps.size(); ++i) {
        if (i > 0) {
          ASSERT_LT(s.steps[i - 1].from, s.steps[i].from);
        }
        ASSERT_NE(s.steps[i].mrr_in_cents, previous);
        ASSERT_GE(s.steps[i].mrr_in_cents, 0);
        previous = s.steps[i].mrr_in_cents;
      }
      for (size_t k = 0; k < 40 && instants.size() > 1; ++k) {
        absl::Time a = instants[r.Uniform(0, static_cast<int>(instants.size()) - 1)];
        absl::Time b = instants[r.Uniform(0, static_cast<int>(instants.size()) - 1)];
        if (b < a) std::swap(a, b);
        // M6: MRR at a + the movements in (a, b] = MRR at b.
        int64_t sum = MrrAt(s.steps, a);
        for (const MrrMovement& m : mrr.MovementsIn(a, b)) {
          if (m.data_source_uuid == s.data_source_uuid &&
              m.currency == s.currency) {
            sum += m.mrr_change_in_cents;
          }
        }
        ASSERT_EQ(sum, MrrAt(s.steps, b))
            << s.data_source_uuid << " " << s.currency;
      }
      // M3: the source's MRR is the sum of its subscriptions'.
      for (absl::Time t : instants) {
        int64_t sum = 0;
        for (const SubscriptionMrr& sub : mrr.subscriptions()) {
          if (sub.data_source_uuid == s.data_source_uuid &&
              sub.currency == s.currency) {
            sum += MrrAt(sub.steps, t);
          }
        }
        ASSERT_EQ(MrrAt(s.steps, t), sum);
      }
    }

    // M4: types follow from before, after and the statuses.
    std::set<std::pair<std::string, std::string>> seen;
    for (const MrrMovement& m : mrr.movements()) {
      const int64_t before = m.mrr_after_in_cents - m.mrr_change_in_cents;
      ASSERT_NE(m.mrr_change_in_cents, 0);
      const bool first =
          seen.insert({m.data_source_uuid, m.currency}).second;
      bool lives = false;
      for (const CustomerTimeline::Subscription& sub :
           timeline.subscriptions()) {
        const SubscriptionStatus st = sub.timeline.StatusAt(m.occurred_at);
        lives |= sub.data_source_uuid == m.data_source_uuid &&
                 (st == SubscriptionStatus::kActive ||
                  st == SubscriptionStatus::kPastDue);
      }
      const MrrMovementType want =
          before == 0 ? (first ? kNew : kReactivation)
          : m.mrr_after_in_cents == 0 ? (lives ? kContraction : kChurn)
          : m.mrr_change_in_cents > 0 ? kExpansion
                                      : kContraction;
      ASSERT_EQ(m.type, want) << ::testing::PrintToString(m);
    }
  }
  EXPECT_GT(movements, testing::Seeds());  // the histories do move
}

}  // namespace
}  // namespace recurrent::engine
