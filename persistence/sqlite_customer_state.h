// A customer's evaluation state: loading everything its evaluation reads
// (persistence::CustomerState) and storing a new evaluation
// (persistence::EvaluationWrite).
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller. The whole-source counterpart of
// LoadCustomerState is the source scan (sqlite_source_scan.h).
#ifndef RECURRENT_PERSISTENCE_SQLITE_CUSTOMER_STATE_H_
#define RECURRENT_PERSISTENCE_SQLITE_CUSTOMER_STATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// The customer `uuid` as ReadTransaction::LoadCustomerState documents, in
// a bounded number of queries whatever its size (one per table). kNotFound
// if absent.
absl::StatusOr<CustomerState> LoadCustomerState(Connection& db,
                                                absl::string_view uuid,
                                                bool with_events);

// Rebuilds the facts blobs (persistence/customer_facts_blob.h) of up to
// `limit` customers marked stale (table customer_facts_stale, filled by the
// schema's triggers) from their rows, and unmarks them (a deleted customer
// just unmarked); returns how many it unmarked. A write transaction calls
// it with no limit just before it commits.
absl::StatusOr<int64_t> RebuildStaleCustomerFacts(Connection& db,
                                                  int64_t limit);

// Applies `write`: updates the subscriptions' stored evaluations, deletes
// and inserts events, and updates the customer's status, derived tags
// (stored '\n'-joined) and next_transition_at. The statements come from the
// connection's cache, so a reprocess prepares them once.
absl::Status WriteEvaluation(Connection& db, const EvaluationWrite& write);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CUSTOMER_STATE_H_
