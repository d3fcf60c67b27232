// A customer's evaluation state: loading everything its evaluation reads
// (persistence::CustomerState) and storing a new evaluation
// (persistence::EvaluationWrite).
//
// Internal to the PostgreSQL backend (the same contract as
// persistence/sqlite_customer_state.h): every function runs on a connection
// inside a transaction held by the caller. The whole-source counterpart of
// LoadCustomerState is the source scan (postgres_source_scan.h).
#ifndef RECURRENT_PERSISTENCE_POSTGRES_CUSTOMER_STATE_H_
#define RECURRENT_PERSISTENCE_POSTGRES_CUSTOMER_STATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// The customer `uuid` as ReadTransaction::LoadCustomerState documents, in
// a bounded number of queries whatever its size (one per table). kNotFound
// if absent.
absl::StatusOr<CustomerState> LoadCustomerState(Connection& db,
                                                absl::string_view uuid,
                                                bool with_events);

// Rebuilds the facts blobs (persistence/customer_facts_blob.h) of up to
// `limit` customers that this transaction marked stale (table
// customer_facts_stale, filled by the schema's triggers) from their rows,
// and unmarks them (a deleted customer just unmarked); returns how many it
// unmarked.
absl::StatusOr<int64_t> RebuildStaleCustomerFacts(Connection& db,
                                                  int64_t limit);
// All of them, a bounded number at a time (so that memory and statement
// sizes stay bounded however many there are): what a write transaction
// does just before it commits, and the migration that adds the blobs.
absl::Status RebuildAllStaleCustomerFacts(Connection& db);

// Applies `write`: updates the subscriptions' stored evaluations, deletes
// and inserts events, and updates the customer's status, derived tags
// (stored '\n'-joined) and next_transition_at: at most four statements
// whatever the number of rows (one per kind of change, each over arrays).
// The statements are prepared once per connection, so a reprocess prepares
// them once. If `write.subscriptions` names a key twice, the last update
// wins.
absl::Status WriteEvaluation(Connection& db, const EvaluationWrite& write);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_CUSTOMER_STATE_H_
