// Stored subscription events (R9): every event of each customer's timeline
// at its last recompute, future ones included.
//
// Internal to the PostgreSQL backend (the same contract as
// persistence/sqlite_events.h): every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_EVENTS_H_
#define RECURRENT_PERSISTENCE_POSTGRES_EVENTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// Every stored event of customer `customer_key`, in no particular order.
absl::StatusOr<std::vector<EventRow>> LoadCustomerEvents(Connection& db,
                                                         int64_t customer_key);

// Stored events matching `filter`, by (occurred_at, id). kNotFound if a
// named customer or source is absent.
absl::StatusOr<Page<SubscriptionEvent>> LoadEventPage(Connection& db,
                                                      const EventFilter& filter,
                                                      const PageRequest& page);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_EVENTS_H_
