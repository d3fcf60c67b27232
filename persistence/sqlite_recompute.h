// Loading a customer's facts for the engine, and storing its evaluation.
//
// Every SqliteStorage write that changes a customer's facts or settings ends
// with RecomputeCustomer() in the same transaction, so the stored
// evaluation (subscription rows, events, customer status, derived tags,
// next_transition_at) is always the engine's answer for the stored facts.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller.
#ifndef RECURRENT_PERSISTENCE_SQLITE_RECOMPUTE_H_
#define RECURRENT_PERSISTENCE_SQLITE_RECOMPUTE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_evaluation_diff.h"
#include "persistence/sqlite_subscriptions.h"

namespace recurrent::persistence::sqlite {

// What the engine needs to evaluate one customer, and its subscription rows.
struct CustomerFactsRows {
  engine::CustomerFacts facts;
  // The current settings of every source the customer has an external id or
  // an invoice in.
  engine::SettingsMap settings;
  std::vector<SubscriptionRow> subscriptions;  // creation order
};

// Loads the facts of customer `customer_key` in a bounded number of queries
// (whatever its number of invoices).
absl::StatusOr<CustomerFactsRows> LoadCustomerFacts(Connection& db,
                                                    int64_t customer_key);

// Loads customer `customer_key`'s facts and stored evaluation in a bounded
// number of queries (the single-customer counterpart of the source scan in
// sqlite_source_scan.h).
absl::StatusOr<StoredCustomer> LoadStoredCustomer(Connection& db,
                                                  int64_t customer_key);

// Evaluates customer `customer_key` at `now` with the engine under its
// sources' current settings and stores the result, writing only what differs
// (sqlite_evaluation_diff.h): each subscription's evaluation, every event of
// the timeline, the customer's status, derived tags and next_transition_at.
// kInvalidArgument if the engine rejects the facts.
absl::Status RecomputeCustomer(Connection& db, int64_t customer_key,
                               absl::Time now);

// Recomputes up to `limit` customers whose next_transition_at is at or
// before `now`, earliest first; returns how many. A customer whose facts the
// engine rejects is logged and left out of later rounds (its
// next_transition_at is cleared) rather than blocking every round.
absl::StatusOr<int> RecomputeDue(Connection& db, absl::Time now, int limit);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_RECOMPUTE_H_
