// The status_reason sentences.
#include "engine/status_reason.h"

#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {
namespace {

using testing::At;
using testing::Day;
using testing::Days;

TEST(StatusReasonTest, FormatInstant) {
  EXPECT_EQ(FormatInstant(Day(2025, 2, 1)), "2025-02-01");
  EXPECT_EQ(FormatInstant(At(2025, 2, 1, 9, 5, 7)), "2025-02-01 09:05:07 UTC");
  EXPECT_EQ(FormatInstant(Day(2025, 2, 1) + absl::Milliseconds(1)),
            "2025-02-01 00:00:00 UTC");
}

TEST(StatusReasonTest, FormatAmount) {
  EXPECT_EQ(FormatAmount(4900, "EUR"), "EUR 49.00");
  EXPECT_EQ(FormatAmount(5, "USD"), "USD 0.05");
  EXPECT_EQ(FormatAmount(-1250, "EUR"), "EUR -12.50");
  EXPECT_EQ(FormatAmount(123456, ""), "1234.56");
  // The currency's own minor unit (ISO 4217): yen have none.
  EXPECT_EQ(FormatAmount(5000, "JPY"), "JPY 5000");
  EXPECT_EQ(FormatAmount(1500, "KWD"), "KWD 1.500");
}

TEST(StatusReasonTest, EveryKind) {
  StatusReason r;
  r.kind = ReasonKind::kNotStarted;
  r.detail = absl::InfiniteFuture();
  EXPECT_EQ(FormatStatusReason(r),
            "Not started: it has no paid service period.");
  r.detail = Day(2025, 3, 1);
  EXPECT_EQ(FormatStatusReason(r),
            "Not started: its first paid service period starts 2025-03-01.");

  r = StatusReason{};
  r.kind = ReasonKind::kActive;
  r.since = Day(2025, 1, 1);
  EXPECT_EQ(FormatStatusReason(r),
            "Active since 2025-01-01: nothing is past due.");

  r = StatusReason{};
  r.kind = ReasonKind::kInvoiceUnpaid;
  r.since = Day(2025, 2, 1);
  r.invoice_external_id = "INV-7";
  r.currency = "EUR";
  r.amount_due_in_cents = 4900;
  EXPECT_EQ(FormatStatusReason(r),
            "Past due since 2025-02-01: invoice INV-7 (EUR 49.00) is not paid "
            "in full.");
  r.auto_churns_at = Day(2025, 2, 15);
  r.auto_churn_after_days = 14;
  EXPECT_EQ(FormatStatusReason(r),
            "Past due since 2025-02-01: invoice INV-7 (EUR 49.00) is not paid "
            "in full; it auto-churns on 2025-02-15 under this source's 14-day "
            "setting.");

  r = StatusReason{};
  r.kind = ReasonKind::kNotRenewed;
  r.since = Day(2025, 1, 20);
  r.detail = Day(2025, 2, 1);
  EXPECT_EQ(FormatStatusReason(r),
            "Past due since 2025-01-20: the service period that ended "
            "2025-02-01 was not renewed.");
  r.auto_churns_at = Day(2025, 2, 15);
  r.auto_churn_after_days = 14;
  EXPECT_EQ(FormatStatusReason(r),
            "Past due since 2025-01-20: the service period that ended "
            "2025-02-01 was not renewed; it auto-churns on 2025-02-15 under "
            "this source's 14-day setting.");

  r = StatusReason{};
  r.kind = ReasonKind::kCancelled;
  r.since = Day(2025, 2, 10);
  EXPECT_EQ(FormatStatusReason(r),
            "Cancelled on 2025-02-10 by an explicit cancellation.");

  r = StatusReason{};
  r.kind = ReasonKind::kAutoChurned;
  r.since = Day(2025, 2, 15);
  r.detail = Day(2025, 2, 1);
  r.auto_churn_after_days = 14;
  EXPECT_EQ(FormatStatusReason(r),
            "Automatically cancelled on 2025-02-15 after 14 days past due "
            "(source setting).");
  r.detail = Day(2025, 2, 15) - Days(20);
  EXPECT_EQ(FormatStatusReason(r),
            "Automatically cancelled on 2025-02-15, past due since 2025-01-26 "
            "(source setting: 14 days).");
}

}  // namespace
}  // namespace recurrent::engine
