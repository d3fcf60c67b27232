// libFuzzer target: the engine over arbitrary fact sets.
//
// The input bytes are decoded (FuzzedDataProvider) into settings for two
// sources, up to 12 invoices with line items and transactions, up to 3
// cancellations, and an instant t, all on a small day grid so that dates
// collide often. Evaluate must not crash, must fail only with
// kInvalidArgument, and on success its invariants hold:
//   - next_transition_at, when set, is after t;
//   - every event is at or before t, in time order, and each changes the
//     status: consecutive events never lead to the same status;
//   - under KEEP no subscription ever auto-churns (R6);
//   - evaluating the same facts again gives the same answer.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/evaluation.h"
#include "engine/evaluator.h"
#include "engine/facts.h"
#include "engine/settings.h"

namespace recurrent::engine {
namespace {

constexpr const char* kSources[] = {"ds_a", "ds_b"};
constexpr const char* kSubscriptions[] = {"sub_1", "sub_2", "sub_3"};
const absl::Time kEpoch = absl::FromUnixSeconds(1704067200);  // 2024-01-01

absl::Time Day(FuzzedDataProvider& in) {
  // Whole days mostly, sometimes an hour inside one.
  const int day = in.ConsumeIntegralInRange<int>(-5, 400);
  const int hour = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange(0, 23);
  return kEpoch + absl::Hours(24 * day + hour);
}

CustomerFacts DecodeFacts(FuzzedDataProvider& in) {
  CustomerFacts facts;
  const int invoices = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < invoices; ++i) {
    Invoice invoice;
    invoice.data_source_uuid = kSources[in.ConsumeIntegralInRange(0, 1)];
    invoice.external_id = "inv" + std::to_string(i);
    invoice.currency = "EUR";
    if (in.ConsumeBool()) invoice.due_date = Day(in);
    const int items = in.ConsumeIntegralInRange(1, 3);
    for (int j = 0; j < items; ++j) {
      LineItem item;
      item.type = static_cast<LineItemType>(in.ConsumeIntegralInRange(0, 2));
      if (item.type != LineItemType::kOneTime || in.ConsumeBool()) {
        item.subscription_external_id =
            kSubscriptions[in.ConsumeIntegralInRange(0, 2)];
      }
      item.service_period_start = Day(in);
      item.service_period_end =
          item.service_period_start +
          absl::Hours(24 * in.ConsumeIntegralInRange(0, 62));
      item.amount_in_cents = in.ConsumeIntegralInRange<int64_t>(-100, 10000);
      invoice.line_items.push_back(item);
    }
    const int transactions = in.ConsumeIntegralInRange(0, 3);
    for (int k = 0; k < transactions; ++k) {
      Transaction tx;
      tx.type = in.ConsumeBool() ? TransactionType::kPayment
                                 : TransactionType::kRefund;
      tx.result = in.ConsumeIntegralInRange(0, 3) == 0
                      ? TransactionResult::kFailed
                      : TransactionResult::kSuccessful;
      tx.date = Day(in);
      if (in.ConsumeBool()) {
        tx.amount_in_cents = in.ConsumeIntegralInRange<int64_t>(-100, 20000);
      }
      invoice.transactions.push_back(tx);
    }
    facts.invoices.push_back(std::move(invoice));
  }
  const int cancellations = in.ConsumeIntegralInRange(0, 3);
  for (int c = 0; c < cancellations; ++c) {
    Cancellation cancellation;
    cancellation.data_source_uuid = kSources[in.ConsumeIntegralInRange(0, 1)];
    cancellation.subscription_external_id =
        kSubscriptions[in.ConsumeIntegralInRange(0, 2)];
    cancellation.cancelled_at = Day(in);
    facts.cancellations.push_back(cancellation);
  }
  return facts;
}

// The status an event of `type` must lead to, if the type fixes it.
std::optional<SubscriptionStatus> FixedStatusAfter(EventType type) {
  switch (type) {
    case EventType::kPastDue:
      return SubscriptionStatus::kPastDue;
    case EventType::kRecovered:
      return SubscriptionStatus::kActive;
    case EventType::kCancelled:
    case EventType::kAutoChurned:
      return SubscriptionStatus::kCancelled;
    default:
      return std::nullopt;  // started/reactivated: ACTIVE or PAST_DUE
  }
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "engine_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace
}  // namespace recurrent::engine

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recurrent::engine;  // NOLINT: a fuzz entry point
  FuzzedDataProvider in(data, size);
  SettingsMap settings;
  bool any_auto_churn = false;
  for (const char* source : kSources) {
    if (!in.ConsumeBool()) continue;  // default KEEP
    SourceSettings s;
    if (in.ConsumeBool()) {
      s.mode = PastDueMode::kAutoChurn;
      s.auto_churn_after_days = in.ConsumeIntegralInRange(0, 100);
      any_auto_churn = true;
    }
    if (in.ConsumeBool()) s.applied_at = Day(in);
    settings[source] = s;
  }
  const absl::Time t = Day(in);
  const CustomerFacts facts = DecodeFacts(in);

  absl::StatusOr<CustomerEvaluation> result = Evaluate(facts, settings, t);
  if (!result.ok()) {
    Require(result.status().code() == absl::StatusCode::kInvalidArgument,
            "Evaluate fails only with kInvalidArgument");
    return 0;
  }
  if (result->next_transition_at.has_value()) {
    Require(*result->next_transition_at > t, "next_transition_at > t");
  }
  for (const SubscriptionEvaluation& sub : result->subscriptions) {
    std::optional<SubscriptionStatus> previous;
    absl::Time previous_at = absl::InfinitePast();
    for (const SubscriptionEvent& event : sub.events) {
      Require(event.occurred_at <= t, "events are not after t");
      Require(event.occurred_at >= previous_at, "events are in time order");
      Require(any_auto_churn || event.type != EventType::kAutoChurned,
              "KEEP never auto-churns");
      const SubscriptionStatus now = event.status_after;
      Require(now != SubscriptionStatus::kNotStarted,
              "an event leads to a started status");
      const std::optional<SubscriptionStatus> fixed =
          FixedStatusAfter(event.type);
      if (fixed.has_value()) {
        Require(now == *fixed, "status_after agrees with the event type");
      } else {
        Require(now != SubscriptionStatus::kCancelled,
                "STARTED and REACTIVATED lead to ACTIVE or PAST_DUE");
      }
      if (previous.has_value()) {
        Require(*previous != now, "consecutive events change the status");
      }
      previous = now;
      previous_at = event.occurred_at;
    }
    if (previous.has_value()) {
      Require(sub.status == *previous, "the last event gives the status");
    }
  }
  absl::StatusOr<CustomerEvaluation> again = Evaluate(facts, settings, t);
  Require(again.ok() && *again == *result, "Evaluate is deterministic");
  return 0;
}
