// The change log on PostgreSQL: appending at commit, reading in sequence
// order, pruning from the oldest end.
//
// Sequences must increase in commit order (backend.h, contract point 6),
// which a PostgreSQL SEQUENCE does not give: two transactions may take 10
// and 11 and commit 11 first. So a write transaction keeps its rows in
// memory and appends them as the last thing before COMMIT: AppendChanges
// first updates the one row of change_log_head, whose row lock is then held
// until the commit, so that appending transactions commit one after the
// other, each numbering its rows after the previous one's. Only this short
// tail of a write is serialized; everything before it runs in parallel.
//
// Internal to PostgresBackend: every function runs inside a transaction
// held by the caller.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_
#define RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// Appends `rows` in order with the next sequences (their `sequence` is
// ignored); call it last, just before COMMIT (see above).
absl::Status AppendChanges(Connection& db, absl::Span<const ChangeRow> rows);

// Up to `limit` rows with sequence > `after`, in sequence order (none if
// `limit` <= 0).
absl::StatusOr<std::vector<ChangeRow>> ReadChanges(Connection& db,
                                                   int64_t after, int limit);

// The highest sequence ever assigned (0 if none), pruned rows included.
absl::StatusOr<int64_t> LastChangeSequence(Connection& db);

// Deletes the longest run of rows from the oldest on whose committed_at is
// before `before`, at most `limit`; returns how many.
absl::StatusOr<int64_t> PruneChanges(Connection& db, absl::Time before,
                                     int limit);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_
