// What the engine computes for one customer at one instant.
//
// Produced by CustomerTimeline::EvaluateAt() (engine/customer_timeline.h) and
// Evaluate() (engine/evaluator.h). Plain structs, safe to copy and compare.
#ifndef RECURRENT_ENGINE_EVALUATION_H_
#define RECURRENT_ENGINE_EVALUATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace recurrent::engine {

// The derived customer tag of R8.
inline constexpr absl::string_view kAutoChurnedTag =
    "auto-churned-delinquent-subscription";

enum class SubscriptionStatus {
  // No paid service period has started yet (R1); the subscription does not
  // count. The service layer usually hides such subscriptions.
  kNotStarted,
  kActive,
  kPastDue,
  kCancelled,
};

enum class CustomerStatus { kLead, kActive, kPastDue, kCancelled };

// One change of a subscription's status (R9).
enum class EventType {
  // Not started -> ACTIVE or PAST_DUE. (A subscription cancelled exactly at
  // its start has kCancelled as its first event instead, R4.)
  kStarted,
  kPastDue,      // ACTIVE -> PAST_DUE
  kRecovered,    // PAST_DUE -> ACTIVE
  kCancelled,    // -> CANCELLED by an explicit cancellation
  kAutoChurned,  // -> CANCELLED by an auto-churn (R6)
  kReactivated,  // CANCELLED -> ACTIVE or PAST_DUE
};

// Returns the upper-case name used in docs and logs, e.g. "PAST_DUE".
absl::string_view SubscriptionStatusName(SubscriptionStatus status);
absl::string_view CustomerStatusName(CustomerStatus status);
absl::string_view EventTypeName(EventType type);

// One status change of a subscription (R9).
struct SubscriptionEvent {
  EventType type = EventType::kStarted;
  absl::Time occurred_at;
  // The subscription's status from occurred_at on, until its next event
  // (the API's SubscriptionEvent.status_after). Never kNotStarted. The type
  // does not fix it: kStarted and kReactivated lead to kActive or, straight
  // into an unpaid stretch, to kPastDue (R5, R4).
  SubscriptionStatus status_after = SubscriptionStatus::kActive;

  // Two events are the same iff all three fields are: an event whose
  // status_after changes is a different event (core/event_ids.h).
  friend bool operator==(const SubscriptionEvent& a,
                         const SubscriptionEvent& b) {
    return a.type == b.type && a.occurred_at == b.occurred_at &&
           a.status_after == b.status_after;
  }
  friend bool operator!=(const SubscriptionEvent& a,
                         const SubscriptionEvent& b) {
    return !(a == b);
  }
};

// One subscription at instant t.
struct SubscriptionEvaluation {
  std::string data_source_uuid;
  std::string subscription_external_id;
  SubscriptionStatus status = SubscriptionStatus::kNotStarted;
  // Start of the first paid service period, if it is at or before t.
  std::optional<absl::Time> started_at;
  // Set iff status is kPastDue: start of the unbroken PAST_DUE stretch that
  // contains t (R5).
  std::optional<absl::Time> past_due_since;
  // Set iff status is kCancelled: start of the unbroken CANCELLED stretch
  // that contains t.
  std::optional<absl::Time> cancelled_at;
  // True iff status is kCancelled and that cancellation is an auto-churn.
  bool auto_churned = false;
  // One sentence for a support person, e.g. "Past due since 2025-02-01:
  // invoice INV-7 (EUR 49.00) is not paid in full."
  std::string status_reason;
  // The service period containing t (the latest-starting one if several
  // overlap); both unset in a gap.
  std::optional<absl::Time> current_period_start;
  std::optional<absl::Time> current_period_end;
  // Every status change at or before t, in time order (R9).
  std::vector<SubscriptionEvent> events;

  friend bool operator==(const SubscriptionEvaluation& a,
                         const SubscriptionEvaluation& b);
  friend bool operator!=(const SubscriptionEvaluation& a,
                         const SubscriptionEvaluation& b) {
    return !(a == b);
  }
};

// One customer at instant t.
struct CustomerEvaluation {
  absl::Time evaluated_at;
  CustomerStatus status = CustomerStatus::kLead;
  // Derived tags only (R8), sorted; user tags are not the engine's business.
  std::vector<std::string> derived_tags;
  // Sorted by (data_source_uuid, subscription_external_id).
  std::vector<SubscriptionEvaluation> subscriptions;
  // The first instant after evaluated_at at which any field above (other
  // than evaluated_at) changes if no facts change; unset if none ever does.
  std::optional<absl::Time> next_transition_at;

  friend bool operator==(const CustomerEvaluation& a,
                         const CustomerEvaluation& b);
  friend bool operator!=(const CustomerEvaluation& a,
                         const CustomerEvaluation& b) {
    return !(a == b);
  }
};

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_EVALUATION_H_
