// Stored subscription events (R9): every event of each customer's timeline
// at its last recompute, future ones included.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors.
#ifndef RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_
#define RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/evaluation.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_subscriptions.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// The events of one subscription's whole timeline, in time order.
struct SubscriptionEvents {
  const SubscriptionRow* subscription;
  const std::vector<engine::SubscriptionEvent>* events;
};

// Makes the stored events of customer `customer_key` exactly `timelines`
// (which must cover every subscription of the customer that has events).
// An event's uuid is derived from (subscription uuid, type, occurred_at,
// ordinal among identical events), so an event that stays the same keeps its
// uuid and row; only the difference is written.
absl::Status SyncCustomerEvents(
    Connection& db, int64_t customer_key,
    const std::vector<SubscriptionEvents>& timelines);

// Stored events matching `filter`, by (occurred_at, id). kNotFound if a
// named customer or source is absent.
absl::StatusOr<Page<SubscriptionEvent>> LoadEventPage(Connection& db,
                                                      const EventFilter& filter,
                                                      const PageRequest& page);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_
