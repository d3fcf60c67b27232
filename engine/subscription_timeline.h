// The complete status history of one subscription (R1, R3-R6, R9).
//
// SubscriptionTimeline::Build() turns a subscription's facts into a list of
// segments covering all time, each with a constant status, reason and current
// service period. Asking for the status at any instant is then a binary
// search. Callers normally go through CustomerTimeline
// (engine/customer_timeline.h), which gathers SubscriptionInput from a
// customer's facts.
#ifndef RECURRENT_ENGINE_SUBSCRIPTION_TIMELINE_H_
#define RECURRENT_ENGINE_SUBSCRIPTION_TIMELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "engine/settings.h"
#include "engine/status_reason.h"

namespace recurrent::engine {

// A service period [start, end) of the subscription: one SUBSCRIPTION line
// item (R1).
struct ServicePeriod {
  absl::Time start;
  absl::Time end;
  // True iff the line item has amount_in_cents > 0 (it can start the
  // subscription).
  bool paid = false;
};

// An invoice that can raise an invoice signal for the subscription (R3 a):
// it has a due date and a SUBSCRIPTION line item of the subscription.
struct SignalInvoice {
  // Views into the caller's facts; Build() copies what it keeps.
  absl::string_view external_id;
  absl::string_view currency;
  int64_t amount_due_in_cents = 0;
  absl::Time due_date;
  // FullyPaidAt() of the invoice (engine/invoice.h).
  absl::Time fully_paid_at;
};

// Everything that decides one subscription's statuses.
struct SubscriptionInput {
  // In any order; duplicates (several line items for one period) are fine.
  // Each must have start < end.
  std::vector<ServicePeriod> periods;
  std::vector<SignalInvoice> invoices;
  // Explicit cancellations (R4), in any order.
  std::vector<absl::Time> cancellations;
  // The settings of the subscription's data source; must be valid
  // (ValidateSourceSettings).
  SourceSettings settings;
};

// Immutable and thread-compatible; cheap to move.
class SubscriptionTimeline {
 public:
  // Computes the whole timeline from `input`. `input` must satisfy the
  // preconditions stated on SubscriptionInput; it is not kept.
  static SubscriptionTimeline Build(const SubscriptionInput& input);

  // When the subscription starts (R1), or nullopt if it never does.
  std::optional<absl::Time> started_at() const { return started_at_; }

  // Every status change over all time, in time order (R9).
  const std::vector<SubscriptionEvent>& events() const { return events_; }

  // The instants of all auto-churns (R6), ascending.
  const std::vector<absl::Time>& auto_churns() const { return auto_churns_; }

  // The instants of all same-day renewals (R6 e): period starts at which an
  // auto-churn was dropped and older signals were settled; ascending.
  const std::vector<absl::Time>& same_day_renewals() const {
    return same_day_renewals_;
  }

  // Returns the status at `t`.
  SubscriptionStatus StatusAt(absl::Time t) const;

  // Fills every field of `*out` except data_source_uuid and
  // subscription_external_id with the subscription at `t`.
  void EvaluateAt(absl::Time t, SubscriptionEvaluation* out) const;

  // Returns the first instant after `t` at which EvaluateAt() gives a
  // different result, or nullopt if it never does.
  std::optional<absl::Time> NextChangeAfter(absl::Time t) const;

 private:
  // A maximal interval [from, next segment's from) over which every output
  // of EvaluateAt() except `events` is constant.
  struct Segment {
    absl::Time from;
    SubscriptionStatus status = SubscriptionStatus::kNotStarted;
    ReasonKind reason = ReasonKind::kNotStarted;
    // See StatusReason::since and StatusReason::detail.
    absl::Time since;
    absl::Time detail;
    // kInvoiceUnpaid: index into invoices_.
    int32_t invoice = -1;
    // Index into periods_ of the current service period, or -1.
    int32_t period = -1;
  };
  struct OwnedInvoice {
    std::string external_id;
    std::string currency;
    int64_t amount_due_in_cents = 0;
  };
  class Builder;

  SubscriptionTimeline() = default;  // Build() is the only way in

  const Segment& SegmentAt(absl::Time t) const;

  std::optional<absl::Time> started_at_;
  int auto_churn_after_days_ = 0;
  std::vector<Segment> segments_;  // segments_[0].from == InfinitePast()
  std::vector<SubscriptionEvent> events_;
  std::vector<absl::Time> auto_churns_;
  std::vector<absl::Time> same_day_renewals_;
  std::vector<ServicePeriod> periods_;  // sorted, unique (start, end)
  std::vector<OwnedInvoice> invoices_;  // those named by segments
};

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_SUBSCRIPTION_TIMELINE_H_
