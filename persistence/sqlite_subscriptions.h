// Row-level operations on subscriptions, their explicit cancellations and
// their stored evaluations.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors. None
// recomputes the customer: the caller does (sqlite_recompute.h).
#ifndef RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_
#define RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "persistence/sqlite_connection.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// A subscriptions row's identity and keys.
struct SubscriptionRow {
  int64_t key = 0;
  int64_t customer_key = 0;
  int64_t source_key = 0;
  SubscriptionRef ref;
};

// Creates the subscription (source_key, external_id) for customer
// `customer_key` if it does not exist. kFailedPrecondition if it belongs to
// another customer.
absl::Status EnsureSubscription(Connection& db, int64_t customer_key,
                                int64_t source_key,
                                absl::string_view source_uuid,
                                absl::string_view external_id);

// Deletes the customer's subscriptions that no SUBSCRIPTION or TRIAL line
// item names any more (their cancellations and events by cascade).
absl::Status DeleteSubscriptionsWithoutLineItems(Connection& db,
                                                 int64_t customer_key);

// kNotFound if absent.
absl::StatusOr<SubscriptionRow> FindSubscription(Connection& db,
                                                 absl::string_view uuid);

// Every subscription of the customer, in creation order.
absl::StatusOr<std::vector<SubscriptionRow>> LoadCustomerSubscriptions(
    Connection& db, int64_t customer_key);

// Records an explicit cancellation; a second one at the same instant is a
// no-op.
absl::Status InsertCancellation(Connection& db, int64_t subscription_key,
                                absl::Time cancelled_at, absl::Time now);

// Every explicit cancellation of the customer's subscriptions.
absl::StatusOr<std::vector<engine::Cancellation>> LoadCustomerCancellations(
    Connection& db, int64_t customer_key);

// A subscription row with its stored evaluation (the columns written at the
// last recompute; `events`, `data_source_uuid` and `subscription_external_id`
// of `evaluation` are left empty).
struct StoredSubscription {
  SubscriptionRow row;
  engine::SubscriptionEvaluation evaluation;
};

// The columns ReadStoredSubscription() expects, for a query over
// `subscriptions s JOIN customers c ON c.id = s.customer_id JOIN
// data_sources d ON d.id = s.data_source_id`.
extern const absl::string_view kStoredSubscriptionColumns;
absl::StatusOr<StoredSubscription> ReadStoredSubscription(const Statement& stmt,
                                                          int first_column);

// Every subscription of the customer with its stored evaluation, in creation
// order.
absl::StatusOr<std::vector<StoredSubscription>> LoadStoredSubscriptions(
    Connection& db, int64_t customer_key);

// Whether the stored evaluation `stored` already holds `evaluated` (events
// and identity aside).
bool SameStoredEvaluation(const engine::SubscriptionEvaluation& stored,
                          const engine::SubscriptionEvaluation& evaluated);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SUBSCRIPTIONS_H_
