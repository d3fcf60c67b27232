#include "persistence/sqlite_evaluation_diff.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "persistence/sqlite_codes.h"

namespace recurrent::persistence::sqlite {
namespace {

// (source uuid, subscription external id): how the engine names a
// subscription, and the order of its outputs.
using NameRef = std::pair<absl::string_view, absl::string_view>;

NameRef NameOf(const StoredSubscription& s) {
  return {s.row.ref.data_source_uuid, s.row.ref.external_id};
}

// The customer's subscription rows sorted by name, to look engine outputs
// up by binary search.
std::vector<const StoredSubscription*> ByName(const StoredCustomer& stored) {
  std::vector<const StoredSubscription*> sorted;
  sorted.reserve(stored.subscriptions.size());
  for (const StoredSubscription& s : stored.subscriptions) {
    sorted.push_back(&s);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const StoredSubscription* a, const StoredSubscription* b) {
              return NameOf(*a) < NameOf(*b);
            });
  return sorted;
}

const StoredSubscription* FindByName(
    const std::vector<const StoredSubscription*>& sorted, NameRef name) {
  auto it = std::lower_bound(
      sorted.begin(), sorted.end(), name,
      [](const StoredSubscription* s, NameRef n) { return NameOf(*s) < n; });
  if (it == sorted.end() || NameOf(**it) != name) return nullptr;
  return *it;
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

const StoredSubscription& FindByKey(const StoredCustomer& stored, int64_t key) {
  for (const StoredSubscription& s : stored.subscriptions) {
    if (s.row.key == key) return s;
  }
  // TimelineEvents only produces keys of `stored`.
  return stored.subscriptions.front();
}

// Appends the events of `wanted` that `stored` lacks to `update`, and the
// row ids of the stored ones no longer wanted. Both are sorted by key. An
// event's uuid depends on its ordinal among identical events, so where the
// counts of identical events differ (which R9 never produces) the group is
// rewritten whole.
void DiffEvents(const StoredCustomer& customer,
                const std::vector<EventKey>& wanted,
                const std::vector<std::pair<EventKey, int64_t>>& stored,
                CustomerUpdate& update) {
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
        update.deleted_events.push_back(stored[i].second);
      }
      const StoredSubscription& sub = FindByKey(customer, key.subscription_key);
      const absl::Time at = absl::FromUnixMicros(key.occurred_at_micros);
      for (size_t i = w; i < w_end; ++i) {
        update.inserted_events.push_back(CustomerUpdate::NewEvent{
            EventUuid(sub.row.ref.uuid, key.type, at, static_cast<int>(i - w)),
            sub.row.key, sub.row.source_key, key.type, at});
      }
    }
    w = w_end;
    s = s_end;
  }
  // Inserted in time order, so that ids (the listing tie-break) follow time
  // where they can.
  std::sort(
      update.inserted_events.begin(), update.inserted_events.end(),
      [](const CustomerUpdate::NewEvent& a, const CustomerUpdate::NewEvent& b) {
        return std::tie(a.occurred_at, a.uuid) <
               std::tie(b.occurred_at, b.uuid);
      });
}

}  // namespace

bool operator<(const EventKey& a, const EventKey& b) {
  return std::make_tuple(a.subscription_key, EventTypeCode(a.type),
                         a.occurred_at_micros) <
         std::make_tuple(b.subscription_key, EventTypeCode(b.type),
                         b.occurred_at_micros);
}

absl::StatusOr<std::vector<EventKey>> TimelineEvents(
    const StoredCustomer& stored, const engine::CustomerTimeline& timeline) {
  const std::vector<const StoredSubscription*> by_name = ByName(stored);
  std::vector<EventKey> events;
  for (const engine::CustomerTimeline::Subscription& subscription :
       timeline.subscriptions()) {
    const StoredSubscription* row = FindByName(
        by_name,
        {subscription.data_source_uuid, subscription.subscription_external_id});
    if (row == nullptr) {
      return absl::InternalError(absl::StrCat(
          "subscription '", subscription.subscription_external_id,
          "' of data source ", subscription.data_source_uuid, " has no row"));
    }
    for (const engine::SubscriptionEvent& event :
         subscription.timeline.events()) {
      events.push_back(EventKey{row->row.key, event.type,
                                absl::ToUnixMicros(event.occurred_at)});
    }
  }
  std::sort(events.begin(), events.end());
  return events;
}

absl::StatusOr<CustomerUpdate> PlanRecompute(
    const StoredCustomer& stored, const engine::SettingsMap& settings,
    absl::Time now) {
  RECURRENT_ASSIGN_OR_RETURN(
      const engine::CustomerTimeline timeline,
      engine::CustomerTimeline::Build(stored.facts, settings));
  const engine::CustomerEvaluation evaluation = timeline.EvaluateAt(now);
  CustomerUpdate update;
  update.customer_key = stored.key;
  RECURRENT_ASSIGN_OR_RETURN(update.events, TimelineEvents(stored, timeline));

  static const engine::SubscriptionEvaluation* const kNotStarted =
      new engine::SubscriptionEvaluation();
  for (const StoredSubscription& s : stored.subscriptions) {
    const engine::SubscriptionEvaluation* evaluated =
        FindEvaluation(evaluation, NameOf(s));
    if (evaluated == nullptr) evaluated = kNotStarted;
    if (SameStoredEvaluation(s.evaluation, *evaluated)) continue;
    CustomerUpdate::SubscriptionChange change;
    change.key = s.row.key;
    change.evaluation.status = evaluated->status;
    change.evaluation.started_at = evaluated->started_at;
    change.evaluation.past_due_since = evaluated->past_due_since;
    change.evaluation.cancelled_at = evaluated->cancelled_at;
    change.evaluation.auto_churned = evaluated->auto_churned;
    change.evaluation.status_reason = evaluated->status_reason;
    change.evaluation.current_period_start = evaluated->current_period_start;
    change.evaluation.current_period_end = evaluated->current_period_end;
    update.subscriptions.push_back(std::move(change));
  }

  std::vector<std::pair<EventKey, int64_t>> stored_events;
  stored_events.reserve(stored.events.size());
  for (const StoredEvent& e : stored.events) {
    stored_events.emplace_back(
        EventKey{e.subscription_key, e.type, absl::ToUnixMicros(e.occurred_at)},
        e.id);
  }
  std::sort(stored_events.begin(), stored_events.end());
  DiffEvents(stored, update.events, stored_events, update);

  update.status = evaluation.status;
  update.derived_tags = absl::StrJoin(evaluation.derived_tags, "\n");
  update.next_transition_at = evaluation.next_transition_at;
  const auto micros = [](const std::optional<absl::Time>& t) {
    return t.has_value() ? std::optional<int64_t>(absl::ToUnixMicros(*t))
                         : std::nullopt;
  };
  update.customer_changed =
      update.status != stored.status ||
      update.derived_tags != stored.derived_tags ||
      micros(update.next_transition_at) != micros(stored.next_transition_at);
  return update;
}

absl::StatusOr<EvaluationWriter> EvaluationWriter::Create(Connection& db) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement update_subscription,
      db.Prepare("UPDATE subscriptions SET status = ?, started_at = ?,"
                 " past_due_since = ?, cancelled_at = ?, auto_churned = ?,"
                 " status_reason = ?, current_period_start = ?,"
                 " current_period_end = ? WHERE id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(
      Statement update_customer,
      db.Prepare("UPDATE customers SET status = ?, derived_tags = ?,"
                 " next_transition_at = ? WHERE id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(
      Statement delete_event,
      db.Prepare("DELETE FROM subscription_events WHERE id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(
      Statement insert_event,
      db.Prepare("INSERT INTO subscription_events (uuid, subscription_id,"
                 " customer_id, data_source_id, type, occurred_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)"));
  return EvaluationWriter(std::move(update_subscription),
                          std::move(update_customer), std::move(delete_event),
                          std::move(insert_event));
}

absl::Status EvaluationWriter::Apply(const CustomerUpdate& update) {
  for (const CustomerUpdate::SubscriptionChange& change :
       update.subscriptions) {
    const engine::SubscriptionEvaluation& e = change.evaluation;
    Statement& stmt = update_subscription_;
    stmt.Reset();
    stmt.BindInt64(1, SubscriptionStatusCode(e.status));
    stmt.BindOptionalTime(2, e.started_at);
    stmt.BindOptionalTime(3, e.past_due_since);
    stmt.BindOptionalTime(4, e.cancelled_at);
    stmt.BindInt64(5, e.auto_churned ? 1 : 0);
    stmt.BindText(6, e.status_reason);
    stmt.BindOptionalTime(7, e.current_period_start);
    stmt.BindOptionalTime(8, e.current_period_end);
    stmt.BindInt64(9, change.key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  for (const int64_t id : update.deleted_events) {
    delete_event_.Reset();
    delete_event_.BindInt64(1, id);
    RECURRENT_RETURN_IF_ERROR(delete_event_.Run());
  }
  for (const CustomerUpdate::NewEvent& event : update.inserted_events) {
    Statement& stmt = insert_event_;
    stmt.Reset();
    stmt.BindText(1, event.uuid);
    stmt.BindInt64(2, event.subscription_key);
    stmt.BindInt64(3, update.customer_key);
    stmt.BindInt64(4, event.source_key);
    stmt.BindInt64(5, EventTypeCode(event.type));
    stmt.BindTime(6, event.occurred_at);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  if (update.customer_changed) {
    Statement& stmt = update_customer_;
    stmt.Reset();
    stmt.BindInt64(1, CustomerStatusCode(update.status));
    stmt.BindText(2, update.derived_tags);
    stmt.BindOptionalTime(3, update.next_transition_at);
    stmt.BindInt64(4, update.customer_key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence::sqlite
