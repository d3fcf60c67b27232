// The one-sentence `status_reason` of a customer (R7 reason rule).
//
// A customer takes its status from its subscriptions (R7); its reason is the
// reason of the subscription that decides that status, named by its external
// id, or why it is a lead:
//
//   std::vector<SubscriptionForReason> subs = ...;  // in creation order
//   std::string reason = CustomerStatusReason(evaluation.status, subs);
//   // "Subscription sub_ext_1: Past due since 2025-02-01: invoice INV-7
//   //  (EUR 49.00) is not paid in full."
//
// Pure: the caller gives the creation order (the engine does not know it).
#ifndef RECURRENT_ENGINE_CUSTOMER_REASON_H_
#define RECURRENT_ENGINE_CUSTOMER_REASON_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/evaluation.h"

namespace recurrent::engine {

// One subscription of the customer as the rule reads it.
struct SubscriptionForReason {
  // The subscription evaluated at the customer's instant; not owned, must
  // be non-null. Its subscription_external_id names it in the sentence.
  const SubscriptionEvaluation* evaluation = nullptr;
  // When it starts (CustomerTimeline::Subscription::timeline.started_at()),
  // possibly after the instant; nullopt if it never does. Read for a lead.
  std::optional<absl::Time> starts_at;
};

// Returns the index in `subscriptions` (in creation order) of the
// subscription whose status the customer takes when its status is `status`:
//   kPastDue   the PAST_DUE one with the earliest past_due_since;
//   kActive    the first ACTIVE one;
//   kCancelled the one cancelled last (latest cancelled_at);
// ties go to the one created first. nullopt for kLead, or if no subscription
// has `status`'s status (inconsistent input).
std::optional<size_t> DecidingSubscription(
    CustomerStatus status, absl::Span<const SubscriptionForReason> subscriptions);

// Returns the customer's reason: "Subscription <external id>: <its
// status_reason>" for the deciding subscription; for a lead, "No
// subscription has started yet." or, when one will start, "No subscription
// has started yet: subscription <external id> starts <date>." naming the
// earliest start (ties: created first).
std::string CustomerStatusReason(
    CustomerStatus status, absl::Span<const SubscriptionForReason> subscriptions);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_CUSTOMER_REASON_H_
