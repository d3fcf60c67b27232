// Stored subscription events (R9): every event of each customer's timeline
// at its last recompute, future ones included.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors.
#ifndef RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_
#define RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_subscriptions.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// One stored event, as the recompute diff needs it (no uuid: it is derived
// from the other fields, see EventUuid).
struct StoredEvent {
  int64_t id = 0;
  int64_t subscription_key = 0;
  engine::EventType type = engine::EventType::kStarted;
  absl::Time occurred_at;
};

// The uuid of an event: derived from (subscription uuid, type, occurred_at,
// ordinal among identical events of the subscription), so an event that
// stays the same across recomputes keeps its uuid.
std::string EventUuid(absl::string_view subscription_uuid,
                      engine::EventType type, absl::Time occurred_at,
                      int ordinal);

// Every stored event of customer `customer_key`, in no particular order.
absl::StatusOr<std::vector<StoredEvent>> LoadCustomerStoredEvents(
    Connection& db, int64_t customer_key);

// Stored events matching `filter`, by (occurred_at, id). kNotFound if a
// named customer or source is absent.
absl::StatusOr<Page<SubscriptionEvent>> LoadEventPage(Connection& db,
                                                      const EventFilter& filter,
                                                      const PageRequest& page);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_EVENTS_H_
