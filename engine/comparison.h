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

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_COMPARISON_H_
