// The complete status history of one customer (R1-R9).
//
// Build a CustomerTimeline once from a customer's facts and its sources'
// settings, then evaluate it at as many instants as needed:
//
//   RECURRENT_ASSIGN_OR_RETURN(CustomerTimeline timeline,
//                    CustomerTimeline::Build(facts, settings));
//   CustomerEvaluation now = timeline.EvaluateAt(t);
//
// The engine is pure: no I/O and no clock; `t` is always passed in.
#ifndef RECURRENT_ENGINE_CUSTOMER_TIMELINE_H_
#define RECURRENT_ENGINE_CUSTOMER_TIMELINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "engine/subscription_timeline.h"

namespace recurrent::engine {

// Immutable and thread-compatible (concurrent const calls are safe); cheap
// to move. Owns copies of everything it needs: `facts` and `settings` may be
// destroyed after Build().
class CustomerTimeline {
 public:
  // One subscription of the customer (R1) with its timeline.
  struct Subscription {
    std::string data_source_uuid;
    std::string subscription_external_id;
    SubscriptionTimeline timeline;
  };

  // Computes every subscription's timeline from `facts`, judging each under
  // the settings of its own data source in `settings` (a source missing
  // from `settings` has mode KEEP). Returns kInvalidArgument if `facts` fail
  // ValidateFacts() or the settings of a source with subscriptions fail
  // ValidateSourceSettings(). Cancellations of subscriptions that have no
  // SUBSCRIPTION or TRIAL line item are ignored.
  static absl::StatusOr<CustomerTimeline> Build(const CustomerFacts& facts,
                                                const SettingsMap& settings);

  // Returns the customer and all its subscriptions at `t`.
  CustomerEvaluation EvaluateAt(absl::Time t) const;

  // Returns the customer status at `t` (R7); cheaper than EvaluateAt().
  CustomerStatus StatusAt(absl::Time t) const;

  // Returns the first instant after `t` at which EvaluateAt() changes in
  // anything but evaluated_at and next_transition_at, or nullopt if it never
  // does.
  std::optional<absl::Time> NextTransitionAfter(absl::Time t) const;

  // Sorted by (data_source_uuid, subscription_external_id).
  const std::vector<Subscription>& subscriptions() const {
    return subscriptions_;
  }

 private:
  CustomerTimeline() = default;

  std::vector<Subscription> subscriptions_;
};

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_CUSTOMER_TIMELINE_H_
