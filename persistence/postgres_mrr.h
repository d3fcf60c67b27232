// Stored derived MRR (persistence/records.h, MrrWrite): each customer's
// movements and deltas, replaced whole by WriteMrr, and the sums GetMrr and
// GetMrrSeries read.
//
// Internal to PostgresBackend: every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_MRR_H_
#define RECURRENT_PERSISTENCE_POSTGRES_MRR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/mrr_types.h"
#include "persistence/records.h"
#include "persistence/postgres_connection.h"

namespace recurrent::persistence::postgres {

// Replaces the MRR rows of customer `customer_key` with `write`'s and
// stores its digest.
absl::Status WriteMrr(Connection& db, int64_t customer_key,
                      const MrrWrite& write);

// Moves the sums the MRR rows' triggers left pending in this transaction
// into the monthly rollups, in one statement per table in key order (schema
// version 9): a write transaction calls it just before COMMIT, so
// concurrent writers take rollup rows only then and all in one order.
absl::Status ApplyPendingRollups(Connection& db);

// Stored movements matching `filter`, by (occurred_at, id). kNotFound if a
// named customer or source is absent.
absl::StatusOr<Page<MrrMovementRow>> LoadMrrMovementPage(
    Connection& db, const MrrMovementFilter& filter, const PageRequest& page);

// ReadTransaction::SumMrr.
absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrrRows(
    Connection& db, absl::string_view data_source_uuid,
    absl::Span<const absl::Time> bounds);

// ReadTransaction::CustomersMrrAt.
absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> LoadCustomersMrrAt(
    Connection& db, absl::Span<const std::string> customer_uuids,
    absl::Time t);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_MRR_H_
