// Comparing two evaluations of one customer: what an outside observer sees
// change between them.
//
// An observer of a customer sees, at an instant `t`, its status at `t` and
// the events that are published by then: those of its timeline with
// occurred_at <= t (an event dated in the future is not published until its
// time comes). Compare() tells what differs between two such views, say
// before and after a write, or under the old and the new settings:
//
//   Published before = PublishedAt(old_timeline, now);
//   Published after = PublishedAt(new_timeline, now);
//   Comparison changes = Compare(before, after);
//   changes.auto_churns_reversed ...  // the settings impact counters
//   changes.appeared / disappeared    // events to publish / retract
//
// and, to list a settings change subscription by subscription, which
// subscriptions that comparison concerns:
//
//   CompareSubscriptions(old_timeline, new_timeline, now, changes)
//
// Pure: no I/O, no clock.
#ifndef RECURRENT_ENGINE_COMPARISON_H_
#define RECURRENT_ENGINE_COMPARISON_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"

namespace recurrent::engine {

// One event of a subscription, named as the engine names subscriptions.
// The strings are views: they must outlive the event (PublishedAt's point
// into its timeline).
struct PublishedEvent {
  absl::string_view data_source_uuid;
  absl::string_view subscription_external_id;
  EventType type = EventType::kStarted;
  absl::Time occurred_at;
  // SubscriptionEvent::status_after: part of what the event is.
  SubscriptionStatus status_after = SubscriptionStatus::kActive;
  // Among identical events (same subscription, type, instant and
  // status_after) of one view, this one's position: 0 for the first. R9
  // never produces two, but the comparison stays exact if it did.
  int ordinal = 0;
};

// What an observer sees of a customer at one instant.
struct Published {
  CustomerStatus status = CustomerStatus::kLead;
  // In any order; ordinals are ignored (Compare numbers identical events
  // itself).
  std::vector<PublishedEvent> events;
};

// The view of `timeline` at `t`: StatusAt(t) and every event with
// occurred_at <= t.
Published PublishedAt(const CustomerTimeline& timeline, absl::Time t);

// What differs from `before` to `after`.
struct Comparison {
  CustomerStatus status_before = CustomerStatus::kLead;
  CustomerStatus status_after = CustomerStatus::kLead;
  // Events of `after` that `before` lacks (to publish), and of `before`
  // that `after` lacks (to retract), as multisets; each sorted by
  // (source, subscription, type, occurred_at, status_after, ordinal). An
  // event that moved in time or whose status_after changed is in both. Ordinals number identical events: those that appear
  // continue after the ones kept, those that disappear are the last ones.
  std::vector<PublishedEvent> appeared;
  std::vector<PublishedEvent> disappeared;
  // AUTO_CHURNED events among `appeared` and `disappeared`: the auto-churns
  // a settings change applies and reverses (R6).
  int64_t auto_churns_applied = 0;
  int64_t auto_churns_reversed = 0;

  bool status_changed() const { return status_before != status_after; }
  bool empty() const {
    return !status_changed() && appeared.empty() && disappeared.empty();
  }
};

Comparison Compare(const Published& before, const Published& after);

// One subscription's part of a comparison of two timelines of a customer.
// The strings are views into the timelines compared.
struct SubscriptionComparison {
  absl::string_view data_source_uuid;
  absl::string_view subscription_external_id;
  // Its status at the instant compared, in each timeline (kNotStarted if
  // the timeline lacks it).
  SubscriptionStatus status_before = SubscriptionStatus::kNotStarted;
  SubscriptionStatus status_after = SubscriptionStatus::kNotStarted;
  // The instants of its AUTO_CHURNED events among the comparison's
  // `appeared` and `disappeared`, oldest first.
  std::vector<absl::Time> auto_churns_applied;
  std::vector<absl::Time> auto_churns_reversed;
};

// The subscriptions whose status at `t` differs between `before` and
// `after`, or that have auto-churns among `comparison`'s appeared or
// disappeared events, sorted by (source, subscription external id).
// `comparison` must be Compare(PublishedAt(before, t), PublishedAt(after,
// t)): the auto-churns listed are exactly the ones it counts (the sums of
// the lists' sizes are its auto_churns_applied and auto_churns_reversed).
std::vector<SubscriptionComparison> CompareSubscriptions(
    const CustomerTimeline& before, const CustomerTimeline& after, absl::Time t,
    const Comparison& comparison);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_COMPARISON_H_
