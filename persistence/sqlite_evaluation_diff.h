// Making a customer's stored evaluation the engine's answer, writing only
// what differs. Shared by the single-customer recompute of every write
// (sqlite_recompute.h) and the bulk reprocess of a data source
// (sqlite_reprocess.h), which differ only in how they load a StoredCustomer:
//
//   StoredCustomer stored = ...;  // one customer's facts and stored state
//   RECURRENT_ASSIGN_OR_RETURN(CustomerUpdate update,
//                    PlanRecompute(stored, settings, now));  // pure
//   RECURRENT_RETURN_IF_ERROR(writer.Apply(update));  // EvaluationWriter
//
// Internal to SqliteStorage.
#ifndef RECURRENT_PERSISTENCE_SQLITE_EVALUATION_DIFF_H_
#define RECURRENT_PERSISTENCE_SQLITE_EVALUATION_DIFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_events.h"
#include "persistence/sqlite_subscriptions.h"

namespace recurrent::persistence::sqlite {

// One customer's facts and everything stored of its last evaluation.
struct StoredCustomer {
  int64_t key = 0;
  std::string uuid;
  engine::CustomerFacts facts;
  std::vector<StoredSubscription> subscriptions;  // creation order
  std::vector<StoredEvent> events;                // any order
  engine::CustomerStatus status = engine::CustomerStatus::kLead;
  std::string derived_tags;  // as stored: sorted, one per line
  std::optional<absl::Time> next_transition_at;
};

// An event of a timeline, identified by its subscription row.
struct EventKey {
  int64_t subscription_key = 0;
  engine::EventType type = engine::EventType::kStarted;
  int64_t occurred_at_micros = 0;

  friend bool operator<(const EventKey& a, const EventKey& b);
  friend bool operator==(const EventKey& a, const EventKey& b) {
    return a.subscription_key == b.subscription_key && a.type == b.type &&
           a.occurred_at_micros == b.occurred_at_micros;
  }
};

// Every event of `timeline` (past and future), keyed by the subscription
// rows of `stored`, sorted. kInternal if a subscription of the timeline has
// no row.
absl::StatusOr<std::vector<EventKey>> TimelineEvents(
    const StoredCustomer& stored, const engine::CustomerTimeline& timeline);

// The writes that turn a customer's stored evaluation into a new one.
struct CustomerUpdate {
  struct SubscriptionChange {
    int64_t key = 0;
    engine::SubscriptionEvaluation evaluation;  // events left empty
  };
  struct NewEvent {
    std::string uuid;
    int64_t subscription_key = 0;
    int64_t source_key = 0;
    engine::EventType type = engine::EventType::kStarted;
    absl::Time occurred_at;
  };

  int64_t customer_key = 0;
  // Every event of the new timeline (past and future), sorted.
  std::vector<EventKey> events;
  // Only the subscriptions whose stored evaluation differs.
  std::vector<SubscriptionChange> subscriptions;
  std::vector<int64_t> deleted_events;    // row ids
  std::vector<NewEvent> inserted_events;  // by (occurred_at, uuid)
  // The new customer-level evaluation; written iff `customer_changed`.
  bool customer_changed = false;
  engine::CustomerStatus status = engine::CustomerStatus::kLead;
  std::string derived_tags;
  std::optional<absl::Time> next_transition_at;

  bool empty() const {
    return subscriptions.empty() && deleted_events.empty() &&
           inserted_events.empty() && !customer_changed;
  }
};

// Evaluates `stored.facts` with the engine under `settings` and returns the
// writes that make the stored evaluation its answer at `now`: subscription
// rows, every event of the timeline, customer status, derived tags and
// next_transition_at. kInvalidArgument if the engine rejects the facts or
// settings. Pure: safe to call from any thread.
absl::StatusOr<CustomerUpdate> PlanRecompute(
    const StoredCustomer& stored, const engine::SettingsMap& settings,
    absl::Time now);

// Writes CustomerUpdates with statements prepared once. Lives on the stack
// of the thread that holds the connection, inside its write transaction.
class EvaluationWriter {
 public:
  static absl::StatusOr<EvaluationWriter> Create(Connection& db);

  EvaluationWriter(EvaluationWriter&&) = default;
  EvaluationWriter(const EvaluationWriter&) = delete;
  EvaluationWriter& operator=(const EvaluationWriter&) = delete;

  absl::Status Apply(const CustomerUpdate& update);

 private:
  EvaluationWriter(Statement update_subscription, Statement update_customer,
                   Statement delete_event, Statement insert_event)
      : update_subscription_(std::move(update_subscription)),
        update_customer_(std::move(update_customer)),
        delete_event_(std::move(delete_event)),
        insert_event_(std::move(insert_event)) {}

  Statement update_subscription_;
  Statement update_customer_;
  Statement delete_event_;
  Statement insert_event_;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_EVALUATION_DIFF_H_
