#include "core/recompute.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "core/event_ids.h"
#include "core/invoices.h"
#include "core/mrr_rows.h"
#include "core/settings.h"
#include "engine/customer_reason.h"

namespace recurrent::core {
namespace {

using persistence::ChangeKind;
using persistence::ChangeRow;
using persistence::CustomerState;
using persistence::EvaluationWrite;
using persistence::EventRow;
using persistence::RowKey;
using persistence::SubscriptionRow;

// (source uuid, subscription external id): how the engine names a
// subscription, and the order of its outputs.
using NameRef = std::pair<absl::string_view, absl::string_view>;

NameRef NameOf(const SubscriptionRow& s) {
  return {s.ref.data_source_uuid, s.ref.external_id};
}

// The customer's subscription rows sorted by name, to look engine outputs
// up by binary search.
std::vector<const SubscriptionRow*> ByName(
    absl::Span<const SubscriptionRow> rows) {
  std::vector<const SubscriptionRow*> sorted;
  sorted.reserve(rows.size());
  for (const SubscriptionRow& s : rows) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [](const SubscriptionRow* a, const SubscriptionRow* b) {
              return NameOf(*a) < NameOf(*b);
            });
  return sorted;
}

const SubscriptionRow* FindByName(
    const std::vector<const SubscriptionRow*>& sorted, NameRef name) {
  auto it = std::lower_bound(
      sorted.begin(), sorted.end(), name,
      [](const SubscriptionRow* s, NameRef n) { return NameOf(*s) < n; });
  if (it == sorted.end() || NameOf(**it) != name) return nullptr;
  return *it;
}

const SubscriptionRow* FindByKey(const CustomerState& state, RowKey key) {
  for (const SubscriptionRow& s : state.subscriptions) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

// The evaluation of subscription `name` in `evaluation` (sorted by name), or
// nullptr.
const engine::SubscriptionEvaluation* FindEvaluation(
    const engine::CustomerEvaluation& evaluation, NameRef name) {
  const auto name_of = [](const engine::SubscriptionEvaluation& e) {
    return NameRef(e.data_source_uuid, e.subscription_external_id);
  };
  auto it = std::lower_bound(evaluation.subscriptions.begin(),
                             evaluation.subscriptions.end(), name,
                             [&](const engine::SubscriptionEvaluation& e,
                                 NameRef n) { return name_of(e) < n; });
  if (it == evaluation.subscriptions.end() || name_of(*it) != name) {
    return nullptr;
  }
  return &*it;
}

// Times are stored in microseconds: compare what would be stored.
int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
bool SameMicros(const std::optional<absl::Time>& a,
                const std::optional<absl::Time>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || Micros(*a) == Micros(*b);
}

// Whether the stored evaluation `stored` already holds `evaluated` (events
// and identity aside).
bool SameStoredEvaluation(const engine::SubscriptionEvaluation& stored,
                          const engine::SubscriptionEvaluation& evaluated) {
  return stored.status == evaluated.status &&
         SameMicros(stored.started_at, evaluated.started_at) &&
         SameMicros(stored.past_due_since, evaluated.past_due_since) &&
         SameMicros(stored.cancelled_at, evaluated.cancelled_at) &&
         stored.auto_churned == evaluated.auto_churned &&
         stored.status_reason == evaluated.status_reason &&
         SameMicros(stored.current_period_start,
                    evaluated.current_period_start) &&
         SameMicros(stored.current_period_end, evaluated.current_period_end);
}

// An event row's identity: (subscription row, type, instant, status after).
// A stored event whose status_after the engine now computes differently is
// replaced like one that moved in time.
struct EventKey {
  RowKey subscription_key = 0;
  engine::EventType type = engine::EventType::kStarted;
  int64_t occurred_at_micros = 0;
  engine::SubscriptionStatus status_after = engine::SubscriptionStatus::kActive;

  auto Tie() const {
    return std::make_tuple(subscription_key, static_cast<int>(type),
                           occurred_at_micros, static_cast<int>(status_after));
  }
  friend bool operator<(const EventKey& a, const EventKey& b) {
    return a.Tie() < b.Tie();
  }
  friend bool operator==(const EventKey& a, const EventKey& b) {
    return a.Tie() == b.Tie();
  }
};

// Every event of `timeline` (past and future), keyed by the subscription
// rows of `state`, sorted.
absl::StatusOr<std::vector<EventKey>> TimelineEvents(
    const CustomerState& state, const engine::CustomerTimeline& timeline) {
  const std::vector<const SubscriptionRow*> by_name =
      ByName(state.subscriptions);
  std::vector<EventKey> events;
  for (const engine::CustomerTimeline::Subscription& subscription :
       timeline.subscriptions()) {
    const SubscriptionRow* row = FindByName(
        by_name,
        {subscription.data_source_uuid, subscription.subscription_external_id});
    if (row == nullptr) {
      return absl::InternalError(absl::StrCat(
          "subscription '", subscription.subscription_external_id,
          "' of data source ", subscription.data_source_uuid, " has no row"));
    }
    for (const engine::SubscriptionEvent& event :
         subscription.timeline.events()) {
      events.push_back(EventKey{row->key, event.type,
                                Micros(event.occurred_at), event.status_after});
    }
  }
  std::sort(events.begin(), events.end());
  return events;
}

// Adds to `write` the events of `wanted` that `stored` lacks, and the row
// keys of the stored ones no longer wanted (both sorted by key). An event's
// uuid depends on its ordinal among identical events, so where the counts
// of identical events differ (which R9 never produces) the group is
// rewritten whole.
void DiffEvents(const CustomerState& state, const std::vector<EventKey>& wanted,
                const std::vector<std::pair<EventKey, RowKey>>& stored,
                EvaluationWrite& write) {
  size_t w = 0;
  size_t s = 0;
  while (w < wanted.size() || s < stored.size()) {
    const EventKey& key = s == stored.size() ? wanted[w]
                          : w == wanted.size()
                              ? stored[s].first
                              : std::min(wanted[w], stored[s].first);
    size_t w_end = w;
    while (w_end < wanted.size() && wanted[w_end] == key) ++w_end;
    size_t s_end = s;
    while (s_end < stored.size() && stored[s_end].first == key) ++s_end;
    if (w_end - w != s_end - s) {
      for (size_t i = s; i < s_end; ++i) {
        write.deleted_events.push_back(stored[i].second);
      }
      // Keys of `wanted` come from `state`'s rows (TimelineEvents).
      const SubscriptionRow& sub = *FindByKey(state, key.subscription_key);
      const absl::Time at = absl::FromUnixMicros(key.occurred_at_micros);
      for (size_t i = w; i < w_end; ++i) {
        write.inserted_events.push_back(EvaluationWrite::NewEvent{
            EventUuid(sub.ref.uuid, key.type, key.status_after, at,
                      static_cast<int>(i - w)),
            sub.key, sub.source_key, key.type, at, key.status_after});
      }
    }
    w = w_end;
    s = s_end;
  }
  // Inserted in time order, so that row keys (the listing tie-break) follow
  // time where they can.
  std::sort(write.inserted_events.begin(), write.inserted_events.end(),
            [](const EvaluationWrite::NewEvent& a,
               const EvaluationWrite::NewEvent& b) {
              return std::tie(a.occurred_at, a.uuid) <
                     std::tie(b.occurred_at, b.uuid);
            });
}

absl::StatusOr<EvaluationWrite> PlanWrite(
    const CustomerState& state, const engine::CustomerTimeline& timeline,
    const engine::CustomerEvaluation& evaluation) {
  EvaluationWrite write;
  write.customer_key = state.key;
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<EventKey> wanted,
                             TimelineEvents(state, timeline));

  static const engine::SubscriptionEvaluation* const kNotStarted =
      new engine::SubscriptionEvaluation();
  for (const SubscriptionRow& s : state.subscriptions) {
    const engine::SubscriptionEvaluation* evaluated =
        FindEvaluation(evaluation, NameOf(s));
    if (evaluated == nullptr) evaluated = kNotStarted;
    if (SameStoredEvaluation(s.evaluation, *evaluated)) continue;
    EvaluationWrite::SubscriptionUpdate update;
    update.key = s.key;
    engine::SubscriptionEvaluation& e = update.evaluation;
    e.status = evaluated->status;
    e.started_at = evaluated->started_at;
    e.past_due_since = evaluated->past_due_since;
    e.cancelled_at = evaluated->cancelled_at;
    e.auto_churned = evaluated->auto_churned;
    e.status_reason = evaluated->status_reason;
    e.current_period_start = evaluated->current_period_start;
    e.current_period_end = evaluated->current_period_end;
    write.subscriptions.push_back(std::move(update));
  }

  std::vector<std::pair<EventKey, RowKey>> stored;
  stored.reserve(state.events.size());
  for (const EventRow& e : state.events) {
    stored.emplace_back(EventKey{e.subscription_key, e.type,
                                 Micros(e.occurred_at), e.status_after},
                        e.key);
  }
  std::sort(stored.begin(), stored.end());
  DiffEvents(state, wanted, stored, write);

  const auto micros = [](const std::optional<absl::Time>& t) {
    return t.has_value() ? std::optional<int64_t>(Micros(*t)) : std::nullopt;
  };
  std::string reason = CustomerStatusReason(state, timeline, evaluation);
  if (evaluation.status != state.customer.status ||
      reason != state.customer.status_reason ||
      evaluation.derived_tags != state.customer.derived_tags ||
      micros(evaluation.next_transition_at) !=
          micros(state.next_transition_at)) {
    write.customer = EvaluationWrite::CustomerUpdate{
        evaluation.status, std::move(reason), evaluation.derived_tags,
        evaluation.next_transition_at};
  }
  persistence::MrrWrite mrr = PlanMrrRows(state, timeline);
  if (state.mrr_digest != mrr.digest) write.mrr = std::move(mrr);
  return write;
}

// Appends the rows publishing (or retracting) `events` of the customer.
absl::Status AppendEventRows(const CustomerState& state,
                             const std::vector<engine::PublishedEvent>& events,
                             ChangeKind kind,
                             absl::Span<const SubscriptionRow> former,
                             absl::Time now, std::vector<ChangeRow>& rows) {
  for (const engine::PublishedEvent& event : events) {
    const NameRef name(event.data_source_uuid, event.subscription_external_id);
    const SubscriptionRow* sub = nullptr;
    for (absl::Span<const SubscriptionRow> rows_of :
         {absl::MakeConstSpan(state.subscriptions), former}) {
      for (const SubscriptionRow& s : rows_of) {
        if (NameOf(s) == name) {
          sub = &s;
          break;
        }
      }
      if (sub != nullptr) break;
    }
    if (sub == nullptr) {
      return absl::InternalError(absl::StrCat(
          "subscription '", event.subscription_external_id, "' of data source ",
          event.data_source_uuid, " has no row"));
    }
    ChangeRow& row = rows.emplace_back();
    row.committed_at = now;
    row.kind = kind;
    row.data_source_uuid = sub->ref.data_source_uuid;
    row.customer_uuid = state.customer.uuid;
    row.event.uuid = EventUuid(sub->ref.uuid, event.type, event.status_after,
                               event.occurred_at, event.ordinal);
    row.event.type = event.type;
    row.event.status_after = event.status_after;
    row.event.subscription = sub->ref;
    row.event.subscription.customer_uuid = state.customer.uuid;
    row.event.occurred_at = absl::FromUnixMicros(Micros(event.occurred_at));
  }
  return absl::OkStatus();
}

// Publications in time order (then by subscription), as a reader expects.
void SortByTime(std::vector<engine::PublishedEvent>& events) {
  std::stable_sort(
      events.begin(), events.end(),
      [](const engine::PublishedEvent& a, const engine::PublishedEvent& b) {
        return a.occurred_at < b.occurred_at;
      });
}

absl::StatusOr<std::vector<ChangeRow>> ChangeRows(
    const CustomerState& state, engine::Comparison comparison,
    absl::Span<const SubscriptionRow> former, absl::Time now) {
  std::vector<ChangeRow> rows;
  SortByTime(comparison.disappeared);
  SortByTime(comparison.appeared);
  RECURRENT_RETURN_IF_ERROR(AppendEventRows(state, comparison.disappeared,
                                            ChangeKind::kEventRetracted, former,
                                            now, rows));
  RECURRENT_RETURN_IF_ERROR(AppendEventRows(state, comparison.appeared,
                                            ChangeKind::kEventPublished, former,
                                            now, rows));
  if (comparison.status_changed()) {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = now;
    row.kind = ChangeKind::kCustomerStatusChanged;
    row.data_source_uuid = state.customer.data_source_uuid;
    row.customer_uuid = state.customer.uuid;
    row.customer_sources = CustomerSources(state.customer);
    row.status = comparison.status_after;
    row.previous_status = comparison.status_before;
  }
  return rows;
}

engine::Published View(const CustomerState& state,
                       std::optional<absl::Time> until_before,
                       std::optional<absl::Time> until_at) {
  engine::Published view;
  view.status = state.customer.status;
  view.events.reserve(state.events.size());
  for (const EventRow& e : state.events) {
    if (until_before.has_value() && e.occurred_at >= *until_before) continue;
    if (until_at.has_value() && e.occurred_at > *until_at) continue;
    const SubscriptionRow* sub = FindByKey(state, e.subscription_key);
    if (sub == nullptr) continue;  // rows always have their subscription
    view.events.push_back(engine::PublishedEvent{
        sub->ref.data_source_uuid, sub->ref.external_id, e.type, e.occurred_at,
        e.status_after, 0});
  }
  return view;
}

}  // namespace

std::string CustomerStatusReason(const CustomerState& state,
                                 const engine::CustomerTimeline& timeline,
                                 const engine::CustomerEvaluation& evaluation) {
  std::vector<engine::SubscriptionForReason> subscriptions;
  subscriptions.reserve(state.subscriptions.size());
  for (const SubscriptionRow& s : state.subscriptions) {  // creation order
    const engine::SubscriptionEvaluation* evaluated =
        FindEvaluation(evaluation, NameOf(s));
    if (evaluated == nullptr) continue;  // not in the facts: never starts
    // The timeline's subscriptions are in the evaluation's order.
    const size_t i = evaluated - evaluation.subscriptions.data();
    subscriptions.push_back(engine::SubscriptionForReason{
        evaluated, timeline.subscriptions()[i].timeline.started_at()});
  }
  return engine::CustomerStatusReason(evaluation.status, subscriptions);
}

absl::StatusOr<engine::CustomerTimeline> BuildTimeline(
    const CustomerState& state) {
  RECURRENT_ASSIGN_OR_RETURN(const engine::SettingsMap settings,
                             ToSettingsMap(state.settings));
  return BuildTimeline(state, settings);
}

absl::StatusOr<engine::CustomerTimeline> BuildTimeline(
    const CustomerState& state, const engine::SettingsMap& settings) {
  absl::StatusOr<engine::CustomerTimeline> timeline =
      engine::CustomerTimeline::Build(state.facts, settings);
  if (!timeline.ok()) {
    return absl::Status(timeline.status().code(),
                        absl::StrCat("customer ", state.customer.uuid, ": ",
                                     timeline.status().message()));
  }
  return timeline;
}

engine::Published StoredView(const CustomerState& state) {
  return View(state, state.next_transition_at, std::nullopt);
}

absl::Time EvaluationInstant(const engine::Published& stored, absl::Time now) {
  absl::Time instant = now;
  for (const engine::PublishedEvent& event : stored.events) {
    instant = std::max(instant, event.occurred_at);
  }
  return instant;
}

engine::Published StoredViewAt(const CustomerState& state, absl::Time t) {
  return View(state, std::nullopt, t);
}

absl::StatusOr<Recompute> PlanRecompute(
    const CustomerState& state, const engine::CustomerTimeline& timeline,
    absl::Time now, const engine::Published& before,
    absl::Span<const SubscriptionRow> former_subscriptions) {
  const engine::CustomerEvaluation evaluation = timeline.EvaluateAt(now);
  Recompute recompute;
  recompute.status = evaluation.status;
  RECURRENT_ASSIGN_OR_RETURN(recompute.write,
                             PlanWrite(state, timeline, evaluation));
  RECURRENT_ASSIGN_OR_RETURN(
      recompute.changes,
      ChangeRows(state,
                 engine::Compare(before, engine::PublishedAt(timeline, now)),
                 former_subscriptions, now));
  return recompute;
}

absl::StatusOr<std::vector<ChangeRow>> RetractAll(const CustomerState& state,
                                                  const engine::Published& view,
                                                  absl::Time now) {
  engine::Published nothing;
  nothing.status = view.status;  // no status row: the customer is gone
  return ChangeRows(state, engine::Compare(view, nothing), {}, now);
}

ChangeRow CustomerChanged(const persistence::Customer& customer,
                          absl::Time now) {
  ChangeRow row;
  row.committed_at = now;
  row.kind = ChangeKind::kCustomerChanged;
  row.data_source_uuid = customer.data_source_uuid;
  row.customer_uuid = customer.uuid;
  return row;
}

}  // namespace recurrent::core
