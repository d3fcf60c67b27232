// The change log (table change_log, schema migration 5): appending,
// reading in sequence order, and pruning from the oldest end.
//
// Sequences are the table's AUTOINCREMENT keys: SQLite serializes write
// transactions, so they increase in commit order, and are never reused
// after pruning (sqlite_sequence keeps the highest ever assigned).
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller.
#ifndef RECURRENT_PERSISTENCE_SQLITE_CHANGE_LOG_H_
#define RECURRENT_PERSISTENCE_SQLITE_CHANGE_LOG_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// Appends `rows` in order (their `sequence` is ignored: each gets the next
// one).
absl::Status AppendChanges(Connection& db, absl::Span<const ChangeRow> rows);

// Up to `limit` rows with sequence > `after`, in sequence order (none if
// `limit` <= 0); only those of the kinds whose code bits `kind_mask` sets
// (ChangeKindCodeMask), if given: the others are passed over inside the
// query.
absl::StatusOr<std::vector<ChangeRow>> ReadChanges(
    Connection& db, int64_t after, int limit,
    std::optional<int64_t> kind_mask = std::nullopt);

// The highest sequence ever assigned (0 if none), pruned rows included.
absl::StatusOr<int64_t> LastChangeSequence(Connection& db);

// Deletes the longest run of rows from the oldest on whose committed_at is
// before `before`, at most `limit`; returns how many. Reads at most `limit`
// rows.
absl::StatusOr<int64_t> PruneChanges(Connection& db, absl::Time before,
                                     int limit);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CHANGE_LOG_H_
