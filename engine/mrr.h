// Monthly recurring revenue (MRR) and its movements, derived from one
// customer's facts and statuses (docs/semantics.md, M1-M6).
//
// Build an MrrTimeline once from the facts and the CustomerTimeline built
// from the same facts, then read MRR at any instant and the movements in time
// order:
//
//   RECURRENT_ASSIGN_OR_RETURN(CustomerTimeline timeline,
//                              CustomerTimeline::Build(facts, settings));
//   MrrTimeline mrr = MrrTimeline::Build(facts, timeline);
//   std::vector<MrrAmount> now = mrr.CustomerMrrAt(t);
//   for (const MrrMovement& movement : mrr.movements()) ...
//
// Everything is a step list (piecewise constant over time), so MRR at an
// instant is a binary search. Money is int64 cents; each line item's
// contribution is kept as an exact fraction until the per-subscription sum
// is rounded half away from zero (M1). (Only a sum whose fractions overflow
// 128 bits, which takes many line items of unrelated odd lengths, is
// summed in long double instead.) The engine is pure: no I/O and no clock.
#ifndef RECURRENT_ENGINE_MRR_H_
#define RECURRENT_ENGINE_MRR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/customer_timeline.h"
#include "engine/facts.h"
#include "engine/mrr_types.h"
#include "engine/settings.h"

namespace recurrent::engine {

// The length of a month for a service period that is not a whole number of
// calendar months (M1): 30.436875 days (365.2425 / 12), exactly 2,629,746 s.
inline constexpr absl::Duration kAverageMonth = absl::Seconds(2'629'746);

// One step of a piecewise-constant MRR: `mrr_in_cents` from `from` until the
// next step's `from`. A step list is in strictly increasing `from` order; its
// value is 0 before the first step, and consecutive values differ (so the
// first value is not 0 and an empty list means 0 forever).
struct MrrStep {
  absl::Time from;
  int64_t mrr_in_cents = 0;

  friend bool operator==(const MrrStep& a, const MrrStep& b) {
    return a.from == b.from && a.mrr_in_cents == b.mrr_in_cents;
  }
  friend bool operator!=(const MrrStep& a, const MrrStep& b) {
    return !(a == b);
  }
};

// Returns the value of the step list `steps` at `t` (binary search).
int64_t MrrAt(const std::vector<MrrStep>& steps, absl::Time t);

// The MRR of one subscription in one currency over all time (M1, M2). A
// subscription has one entry per currency of the invoices of its
// SUBSCRIPTION and TRIAL line items: nearly always exactly one.
struct SubscriptionMrr {
  std::string data_source_uuid;
  std::string subscription_external_id;
  std::string currency;
  std::vector<MrrStep> steps;
  // The service period starts of its line items in this currency, ascending
  // and unique; they choose the currency SubscriptionMrrAt() shows.
  std::vector<absl::Time> period_starts;
};

// The customer's MRR in one data source and currency over all time (M3):
// the sum of its subscriptions' steps in that source and currency.
struct SourceMrr {
  std::string data_source_uuid;
  std::string currency;
  std::vector<MrrStep> steps;
};

// The MRR history of one customer. Immutable and thread-compatible; cheap to
// move; owns copies of everything it needs.
class MrrTimeline {
 public:
  // Computes the MRR history from `facts` and `timeline`, which must have
  // been built from the same facts (CustomerTimeline::Build() validates
  // them); only the statuses of `timeline` are read, so its settings decide
  // when a subscription is cancelled (M2, M5). Neither is kept.
  static MrrTimeline Build(const CustomerFacts& facts,
                           const CustomerTimeline& timeline);

  // Sorted by (data_source_uuid, subscription_external_id, currency).
  const std::vector<SubscriptionMrr>& subscriptions() const {
    return subscriptions_;
  }

  // Sorted by (data_source_uuid, currency); one entry per pair that any
  // subscription has, even if its MRR is always 0.
  const std::vector<SourceMrr>& sources() const { return sources_; }

  // Every movement over all time, sorted by (occurred_at, data_source_uuid,
  // currency).
  const std::vector<MrrMovement>& movements() const { return movements_; }

  // Returns the movements with start < occurred_at <= end, in the order of
  // movements(). With M6, MRR at start + their changes = MRR at end.
  std::vector<MrrMovement> MovementsIn(absl::Time start, absl::Time end) const;

  // Returns the MRR of subscription (data_source_uuid,
  // subscription_external_id) at `t` and its currency, or nullopt if the
  // customer has no such subscription. In the rare case of several
  // currencies, the one shown is the one with the largest MRR at `t` if any
  // is > 0, otherwise that of its latest period starting at or before `t`
  // (or of its first period if none has started).
  std::optional<MrrAmount> SubscriptionMrrAt(
      absl::string_view data_source_uuid,
      absl::string_view subscription_external_id, absl::Time t) const;

  // Returns the customer's MRR at `t` per currency, summed over all data
  // sources, or over `data_source_uuid` only if it is not empty: sorted by
  // currency, currencies whose MRR is 0 left out.
  std::vector<MrrAmount> CustomerMrrAt(
      absl::Time t, absl::string_view data_source_uuid = {}) const;

 private:
  MrrTimeline() = default;  // Build() is the only way in

  std::vector<SubscriptionMrr> subscriptions_;
  std::vector<SourceMrr> sources_;
  std::vector<MrrMovement> movements_;
};

// Returns MrrTimeline::Build(facts, *CustomerTimeline::Build(facts,
// settings)), or the error of CustomerTimeline::Build() (kInvalidArgument).
absl::StatusOr<MrrTimeline> ComputeMrr(const CustomerFacts& facts,
                                       const SettingsMap& settings);

// Returns the MRR of a non-prorated SUBSCRIPTION line item of `net_in_cents`
// (amount minus tax) with service period [start, end), rounded half away
// from zero to a cent (M1): net / k when `end` is exactly k calendar months
// after `start` in UTC (same time of day, the day of month clamped to the
// last day of a shorter month), else net / ((end - start) / kAverageMonth).
// Requires start < end, both finite.
int64_t LineItemMrrInCents(int64_t net_in_cents, absl::Time start,
                           absl::Time end);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_MRR_H_
