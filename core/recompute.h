// Recomputing one customer: making its stored evaluation the engine's answer
// and telling the change log what an observer sees change.
//
//   ASSIGN_OR_RETURN(engine::CustomerTimeline timeline,
//                    BuildTimeline(state, settings));
//   ASSIGN_OR_RETURN(Recompute recompute,
//                    PlanRecompute(state, timeline, now, StoredView(state)));
//   txn.WriteEvaluation(recompute.write);   // only what differs
//   txn.AppendChanges(recompute.changes);   // published, retracted, status
//
// Shared by every write of the Store and by the reprocess pipeline
// (core/reprocess.h), which differ only in how they load the state. Pure:
// safe on any thread.
#ifndef RECURRENT_CORE_RECOMPUTE_H_
#define RECURRENT_CORE_RECOMPUTE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/comparison.h"
#include "engine/customer_timeline.h"
#include "engine/settings.h"
#include "persistence/records.h"

namespace recurrent::core {

// The customer's timeline: its facts, each subscription judged under its
// source's settings in `settings`. kInvalidArgument naming the customer if
// the engine rejects the facts or settings.
absl::StatusOr<engine::CustomerTimeline> BuildTimeline(
    const persistence::CustomerState& state,
    const engine::SettingsMap& settings);
// The same under the settings loaded with the state (state.settings);
// kInternal if a stored settings record does not decode.
absl::StatusOr<engine::CustomerTimeline> BuildTimeline(
    const persistence::CustomerState& state);

// What observers have been shown of the stored evaluation: the stored
// status, and the stored events published by the time it was computed. An
// evaluation at `t` publishes the events up to `t` and has none in
// (t, next_transition_at), so those are the events before the stored
// next_transition_at (all of them if it has none). `state` must have its
// events loaded and must outlive the result (it holds views into it).
engine::Published StoredView(const persistence::CustomerState& state);

// The instant a write at `now` evaluates a customer at: `now`, or the latest
// event the stored evaluation published if that is later. Another process
// (a replica, or this one's re-evaluator) may have evaluated the customer at
// a later instant and committed while this write waited for its locks;
// evaluating at `now` would then move the customer back in time, retracting
// what was published and applying the transition again. No transition lies
// between that event and the stored evaluation's instant, so evaluating at
// the event's instant answers as the stored evaluation did.
// `stored` is what the stored evaluation published (StoredView of the
// state as loaded; for a merge, the surviving customer's own view).
absl::Time EvaluationInstant(const engine::Published& stored, absl::Time now);

// The stored status and the stored events with occurred_at <= `t`: what a
// reprocess counts as "before" (core/settings.h, SourceSettings).
engine::Published StoredViewAt(const persistence::CustomerState& state,
                               absl::Time t);

// The customer's status_reason in `evaluation` (an EvaluateAt() of
// `timeline`, built from `state`): engine::CustomerStatusReason over the
// subscriptions in creation order (the order of state.subscriptions).
std::string CustomerStatusReason(const persistence::CustomerState& state,
                                 const engine::CustomerTimeline& timeline,
                                 const engine::CustomerEvaluation& evaluation);

// What recomputing one customer writes.
struct Recompute {
  // Only what differs from the stored evaluation (may be empty).
  persistence::EvaluationWrite write;
  // From the view `before` to the new view at `now`: retractions, then
  // publications (each in time order), then the customer's status change
  // (committed_at = now).
  std::vector<persistence::ChangeRow> changes;
  engine::CustomerStatus status = engine::CustomerStatus::kLead;  // at now
};

// Plans the recompute of the customer `state` (its stored rows, events
// included) to `timeline`'s answer at `now`. `before` is the view observers
// were last shown (usually StoredView(state)); events it names of
// subscriptions that `state` no longer has are looked up in
// `former_subscriptions`. kInternal if a subscription of the timeline or of
// `before` has no row.
absl::StatusOr<Recompute> PlanRecompute(
    const persistence::CustomerState& state,
    const engine::CustomerTimeline& timeline, absl::Time now,
    const engine::Published& before,
    absl::Span<const persistence::SubscriptionRow> former_subscriptions = {});

// The change rows retracting every event of `view` and nothing else, for a
// customer that disappears (deleted, or merged into another).
absl::StatusOr<std::vector<persistence::ChangeRow>> RetractAll(
    const persistence::CustomerState& state, const engine::Published& view,
    absl::Time now);

// A kCustomerChanged row for `customer` at `now`.
persistence::ChangeRow CustomerChanged(const persistence::Customer& customer,
                                       absl::Time now);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_RECOMPUTE_H_
