// R2: amount due, paid amount and open invoices.
#include "engine/invoice.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {
namespace {

using testing::Day;
using testing::FailedPayment;
using testing::Payment;
using testing::Refund;
using testing::SubscriptionItem;

struct PaidAtCase {
  std::string name;
  std::vector<int64_t> line_item_cents;
  std::vector<Transaction> transactions;
  absl::Time expected_fully_paid_at;
};

Invoice MakeInvoice(const PaidAtCase& c) {
  Invoice invoice;
  invoice.data_source_uuid = "ds";
  invoice.external_id = "INV";
  for (int64_t cents : c.line_item_cents) {
    invoice.line_items.push_back(
        SubscriptionItem("s", Day(2025, 1, 1), Day(2025, 2, 1), cents));
  }
  invoice.transactions = c.transactions;
  return invoice;
}

TEST(R2OpenInvoicesTest, FullyPaidAtTable) {
  const absl::Time d1 = Day(2025, 2, 1);
  const absl::Time d2 = Day(2025, 2, 10);
  const absl::Time d3 = Day(2025, 2, 20);
  const std::vector<PaidAtCase> cases = {
      {"no payment", {4900}, {}, absl::InfiniteFuture()},
      {"full payment", {4900}, {Payment(d1, 4900)}, d1},
      {"payment without amount pays all", {4900, 100}, {Payment(d2)}, d2},
      {"partial payments add up",
       {4900},
       {Payment(d3, 900), Payment(d1, 2000), Payment(d2, 2000)},
       d3},
      {"partial payment only",
       {4900},
       {Payment(d1, 4899)},
       absl::InfiniteFuture()},
      {"overpayment", {4900}, {Payment(d2, 9999)}, d2},
      {"failed payment changes nothing",
       {4900},
       {FailedPayment(d1)},
       absl::InfiniteFuture()},
      {"refund changes nothing",
       {4900},
       {Payment(d1, 4900), Refund(d2, 4900)},
       d1},
      {"refund does not pay", {4900}, {Refund(d1)}, absl::InfiniteFuture()},
      {"amount due is the sum of all line items",
       {4900, -900},
       {Payment(d1, 4000)},
       d1},
      {"zero amount due is never open", {0}, {}, absl::InfinitePast()},
      {"negative amount due is never open",
       {100, -500},
       {},
       absl::InfinitePast()},
      {"no line items is never open", {}, {}, absl::InfinitePast()},
  };
  for (const PaidAtCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FullyPaidAt(MakeInvoice(c)), c.expected_fully_paid_at);
  }
}

TEST(R2OpenInvoicesTest, AmountDueSumsAllLineItemTypes) {
  Invoice invoice;
  invoice.line_items.push_back(
      SubscriptionItem("s", Day(2025, 1, 1), Day(2025, 2, 1), 4900));
  LineItem one_time;
  one_time.type = LineItemType::kOneTime;
  one_time.amount_in_cents = 1000;
  invoice.line_items.push_back(one_time);
  LineItem trial;
  trial.type = LineItemType::kTrial;
  trial.amount_in_cents = 1;
  invoice.line_items.push_back(trial);
  EXPECT_EQ(AmountDue(invoice), 5901);
}

TEST(R2OpenInvoicesTest, OpenWhilePaidIsLessThanDue) {
  Invoice invoice;
  invoice.line_items.push_back(
      SubscriptionItem("s", Day(2025, 1, 1), Day(2025, 2, 1), 4900));
  invoice.transactions = {Payment(Day(2025, 2, 1), 2000),
                          Payment(Day(2025, 2, 5), 2900)};
  EXPECT_TRUE(IsOpenAt(invoice, Day(2025, 1, 1)));
  EXPECT_TRUE(IsOpenAt(invoice, Day(2025, 2, 5) - absl::Seconds(1)));
  EXPECT_FALSE(IsOpenAt(invoice, Day(2025, 2, 5)));
}

TEST(R2OpenInvoicesTest, AmountPaidAtCountsSuccessfulPaymentsUpToT) {
  const absl::Time d1 = Day(2025, 2, 1);
  const absl::Time d2 = Day(2025, 2, 10);
  const absl::Time d3 = Day(2025, 2, 20);
  const absl::Time before = d1 - absl::Seconds(1);
  const absl::Time later = Day(2030, 1, 1);
  struct Case {
    std::string name;
    std::vector<int64_t> line_item_cents;
    std::vector<Transaction> transactions;
    // (t, expected paid at t)
    std::vector<std::pair<absl::Time, int64_t>> expected;
  };
  const std::vector<Case> cases = {
      {"no payment", {4900}, {}, {{before, 0}, {later, 0}}},
      {"partial then full",
       {4900},
       {Payment(d1, 2000), Payment(d2, 2900)},
       {{before, 0}, {d1, 2000}, {d2 - absl::Seconds(1), 2000}, {d2, 4900}}},
      {"payment without amount pays the rest",
       {4900},
       {Payment(d1, 1000), Payment(d2)},
       {{d1, 1000}, {d2, 4900}, {later, 4900}}},
      {"overpayment is capped at the amount due",
       {4900},
       {Payment(d1, 3000), Payment(d2, 3000)},
       {{d1, 3000}, {d2, 4900}}},
      {"refund changes nothing",
       {4900},
       {Payment(d1, 4900), Refund(d2, 4900)},
       {{d1, 4900}, {d3, 4900}}},
      {"failed payment changes nothing",
       {4900},
       {Payment(d1, 900), FailedPayment(d2)},
       {{d1, 900}, {d3, 900}}},
      {"zero amount due pays nothing", {0}, {Payment(d1, 100)}, {{d2, 0}}},
      {"negative amount due pays nothing",
       {100, -500},
       {Payment(d1)},
       {{d2, 0}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Invoice invoice =
        MakeInvoice(PaidAtCase{c.name, c.line_item_cents, c.transactions, {}});
    for (const auto& [t, paid] : c.expected) {
      SCOPED_TRACE(absl::FormatTime(t));
      EXPECT_EQ(AmountPaidAt(invoice, t), paid);
      // The same rule as FullyPaidAt and IsOpenAt.
      const int64_t due = AmountDue(invoice);
      EXPECT_EQ(IsOpenAt(invoice, t), due > 0 && paid < due);
      if (due > 0) {
        EXPECT_EQ(paid == due, FullyPaidAt(invoice) <= t);
      }
    }
  }
}

TEST(R2OpenInvoicesTest, TotalsSaturateInsteadOfOverflowing) {
  // Amounts are bounded (ValidateFacts), but the sums never wrap: two line
  // items of INT64_MAX are a huge amount due, not a negative one (which would
  // read as "nothing due, never open").
  constexpr int64_t kHuge = std::numeric_limits<int64_t>::max();
  PaidAtCase c{"huge", {kHuge, kHuge}, {}, absl::InfiniteFuture()};
  const Invoice invoice = MakeInvoice(c);
  EXPECT_EQ(AmountDue(invoice), kHuge);
  EXPECT_TRUE(IsOpenAt(invoice, Day(2025, 3, 1)));
  c.line_item_cents = {-kHuge, -kHuge};
  EXPECT_EQ(AmountDue(MakeInvoice(c)), std::numeric_limits<int64_t>::min());
}

TEST(R2OpenInvoicesTest, ValidateFactsBoundsEveryAmount) {
  CustomerFacts facts;
  facts.invoices.push_back(MakeInvoice(
      PaidAtCase{"max", {kMaxAmountInCents, -kMaxAmountInCents}, {}, {}}));
  facts.invoices[0].transactions.push_back(
      Payment(Day(2025, 2, 1), kMaxAmountInCents));
  EXPECT_TRUE(ValidateFacts(facts).ok());
  facts.invoices[0].line_items[0].amount_in_cents = kMaxAmountInCents + 1;
  EXPECT_EQ(ValidateFacts(facts).code(), absl::StatusCode::kInvalidArgument);
  facts.invoices[0].line_items[0].amount_in_cents = -kMaxAmountInCents - 1;
  EXPECT_EQ(ValidateFacts(facts).code(), absl::StatusCode::kInvalidArgument);
  facts.invoices[0].line_items[0].amount_in_cents = 0;
  facts.invoices[0].transactions[0].amount_in_cents = kMaxAmountInCents + 1;
  EXPECT_EQ(ValidateFacts(facts).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recurrent::engine
