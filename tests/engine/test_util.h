// Helpers to write engine facts tersely in tests.
#ifndef RECURRENT_TESTS_ENGINE_TEST_UTIL_H_
#define RECURRENT_TESTS_ENGINE_TEST_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "gtest/gtest.h"

namespace recurrent::engine {

// Readable gtest output for engine types.
inline void PrintTo(SubscriptionStatus status, std::ostream* os) {
  *os << SubscriptionStatusName(status);
}
inline void PrintTo(CustomerStatus status, std::ostream* os) {
  *os << CustomerStatusName(status);
}
inline void PrintTo(EventType type, std::ostream* os) {
  *os << EventTypeName(type);
}
inline void PrintTo(const SubscriptionEvent& event, std::ostream* os) {
  *os << EventTypeName(event.type) << "@"
      << absl::FormatTime(event.occurred_at, absl::UTCTimeZone()) << "->"
      << SubscriptionStatusName(event.status_after);
}

namespace testing {

inline constexpr char kSource[] = "ds_a";
inline constexpr char kOtherSource[] = "ds_b";
inline constexpr char kSub[] = "sub_1";

// Short names for the statuses the tables of expectations use.
inline constexpr SubscriptionStatus kActive = SubscriptionStatus::kActive;
inline constexpr SubscriptionStatus kPastDue = SubscriptionStatus::kPastDue;
inline constexpr SubscriptionStatus kCancelled = SubscriptionStatus::kCancelled;

// Midnight UTC of the given date.
inline absl::Time Day(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}
// The given UTC date and time.
inline absl::Time At(int y, int m, int d, int hh, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}
inline absl::Duration Days(int n) { return absl::Hours(24) * n; }
inline constexpr absl::Duration kSecond = absl::Seconds(1);

inline Transaction Payment(absl::Time date,
                           std::optional<int64_t> cents = std::nullopt) {
  Transaction t;
  t.type = TransactionType::kPayment;
  t.result = TransactionResult::kSuccessful;
  t.date = date;
  t.amount_in_cents = cents;
  return t;
}
inline Transaction FailedPayment(absl::Time date) {
  Transaction t = Payment(date);
  t.result = TransactionResult::kFailed;
  return t;
}
inline Transaction Refund(absl::Time date,
                          std::optional<int64_t> cents = std::nullopt) {
  Transaction t = Payment(date, cents);
  t.type = TransactionType::kRefund;
  return t;
}

inline LineItem SubscriptionItem(std::string sub, absl::Time start,
                                 absl::Time end, int64_t cents = 4900) {
  LineItem item;
  item.type = LineItemType::kSubscription;
  item.subscription_external_id = std::move(sub);
  item.service_period_start = start;
  item.service_period_end = end;
  item.amount_in_cents = cents;
  return item;
}

// An EUR invoice of kSource with one SUBSCRIPTION line item of `sub` for
// [start, end), due `due`, and one full payment at `paid` if set.
inline Invoice SubInvoice(std::string id, std::string sub, absl::Time start,
                          absl::Time end, std::optional<absl::Time> due,
                          std::optional<absl::Time> paid,
                          int64_t cents = 4900) {
  Invoice invoice;
  invoice.data_source_uuid = kSource;
  invoice.external_id = std::move(id);
  invoice.currency = "EUR";
  invoice.due_date = due;
  invoice.line_items.push_back(
      SubscriptionItem(std::move(sub), start, end, cents));
  if (paid.has_value()) invoice.transactions.push_back(Payment(*paid));
  return invoice;
}

// Calendar-monthly invoices INV-<prefix>1.. of `sub` for `months` periods
// from `first` (a UTC day), each due at its period start and paid then.
inline std::vector<Invoice> MonthlyInvoices(std::string sub,
                                            absl::CivilDay first, int months,
                                            const std::string& prefix = "") {
  std::vector<Invoice> invoices;
  for (int i = 0; i < months; ++i) {
    const absl::CivilMonth month = absl::CivilMonth(first) + i;
    const absl::CivilDay start_day(month.year(), month.month(), first.day());
    const absl::CivilMonth next = month + 1;
    const absl::CivilDay end_day(next.year(), next.month(), first.day());
    const absl::Time start = absl::FromCivil(start_day, absl::UTCTimeZone());
    const absl::Time end = absl::FromCivil(end_day, absl::UTCTimeZone());
    invoices.push_back(SubInvoice(absl::StrCat("INV-", prefix, i + 1), sub,
                                  start, end, start, start));
  }
  return invoices;
}

inline Cancellation Cancel(std::string sub, absl::Time at,
                           std::string source = kSource) {
  return Cancellation{std::move(source), std::move(sub), at};
}

inline SettingsMap KeepSettings() { return SettingsMap{}; }
inline SettingsMap AutoChurn(int days,
                             absl::Time applied_at = absl::InfinitePast(),
                             std::string source = kSource) {
  SettingsMap settings;
  settings[source] = SourceSettings{PastDueMode::kAutoChurn, days, applied_at};
  return settings;
}

// Builds the timeline or fails the test.
inline CustomerTimeline MustBuild(const CustomerFacts& facts,
                                  const SettingsMap& settings) {
  absl::StatusOr<CustomerTimeline> timeline =
      CustomerTimeline::Build(facts, settings);
  EXPECT_TRUE(timeline.ok()) << timeline.status();
  if (!timeline.ok()) std::abort();
  return *std::move(timeline);
}

// The evaluation of subscription (kSource, `sub`) at `t`.
inline SubscriptionEvaluation SubAt(const CustomerTimeline& timeline,
                                    absl::Time t, const std::string& sub = kSub,
                                    const std::string& source = kSource) {
  for (const SubscriptionEvaluation& s : timeline.EvaluateAt(t).subscriptions) {
    if (s.subscription_external_id == sub && s.data_source_uuid == source) {
      return s;
    }
  }
  ADD_FAILURE() << "no subscription " << source << "/" << sub;
  return SubscriptionEvaluation{};
}

// All events of (kSource, `sub`) over all time.
inline std::vector<SubscriptionEvent> AllEvents(
    const CustomerTimeline& timeline, const std::string& sub = kSub,
    const std::string& source = kSource) {
  return SubAt(timeline, absl::InfiniteFuture(), sub, source).events;
}

// The status an event of `type` leads to unless it starts or reactivates
// straight into PAST_DUE (then say so with the three-argument Ev).
inline SubscriptionStatus UsualStatusAfter(EventType type) {
  switch (type) {
    case EventType::kPastDue:
      return SubscriptionStatus::kPastDue;
    case EventType::kCancelled:
    case EventType::kAutoChurned:
      return SubscriptionStatus::kCancelled;
    default:
      return SubscriptionStatus::kActive;
  }
}

inline SubscriptionEvent Ev(EventType type, absl::Time at,
                            SubscriptionStatus status_after) {
  return SubscriptionEvent{type, at, status_after};
}
inline SubscriptionEvent Ev(EventType type, absl::Time at) {
  return Ev(type, at, UsualStatusAfter(type));
}

}  // namespace testing
}  // namespace recurrent::engine

#endif  // RECURRENT_TESTS_ENGINE_TEST_UTIL_H_
