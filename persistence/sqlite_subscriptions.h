// Row-level operations on subscriptions, their explicit cancellations and
// their stored evaluations.
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors.
#ifndef RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_
#define RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/facts.h"
#include "persistence/records.h"
#include "persistence/subscription_columns.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// kNotFound if absent.
absl::StatusOr<SubscriptionRef> LoadSubscription(Connection& db,
                                                 absl::string_view uuid);

// The subscription (source, external id), or nullopt (also if the source
// is absent).
absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
    Connection& db, absl::string_view data_source_uuid,
    absl::string_view external_id);

// Inserts the subscriptions (with a not-started stored evaluation).
// kNotFound if a customer or source is absent; kAlreadyExists if (source,
// external id) is taken.
absl::Status InsertSubscriptions(Connection& db,
                                 absl::Span<const SubscriptionRef> refs);

// Deletes the subscriptions that exist among `uuids` (their cancellations
// and events by cascade).
absl::Status DeleteSubscriptions(Connection& db,
                                 absl::Span<const std::string> uuids);

// Records an explicit cancellation; returns false (and stores nothing) if
// the same instant is recorded already. kNotFound if the subscription is
// absent.
absl::StatusOr<bool> InsertCancellation(Connection& db,
                                        absl::string_view subscription_uuid,
                                        absl::Time cancelled_at,
                                        absl::Time recorded_at);

// Every explicit cancellation of the customer's subscriptions.
absl::StatusOr<std::vector<engine::Cancellation>> LoadCustomerCancellations(
    Connection& db, int64_t customer_key);


// Every subscription of the customer with its stored evaluation, in
// creation order.
absl::StatusOr<std::vector<SubscriptionRow>> LoadStoredSubscriptions(
    Connection& db, int64_t customer_key);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_
