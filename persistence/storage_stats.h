// ReadStorageStats: what the metrics report of the stored data
// (service/metrics.h), with the same SQL on both backends but for the size.
//
// `Connection` is the backend's connection class (sqlite::Connection or
// postgres::Connection): Prepare(sql) -> StatusOr<Statement>, with Step(),
// ColumnInt64() and ColumnOptionalTime(). `size_sql` is the backend's query
// of the database's size in bytes (one row, one column).
#ifndef RECURRENT_PERSISTENCE_STORAGE_STATS_H_
#define RECURRENT_PERSISTENCE_STORAGE_STATS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "persistence/records.h"

namespace recurrent::persistence {

template <typename Connection>
absl::StatusOr<StorageStats> ReadStorageStats(Connection& db,
                                              const char* size_sql) {
  StorageStats stats;
  {
    RECURRENT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(size_sql));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (row) stats.database_bytes = stmt.ColumnInt64(0);
  }
  {
    // customers_by_next_transition makes this one index lookup.
    RECURRENT_ASSIGN_OR_RETURN(
        auto stmt, db.Prepare("SELECT min(next_transition_at) FROM customers"
                              " WHERE next_transition_at IS NOT NULL"));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (row) stats.earliest_transition_at = stmt.ColumnOptionalTime(0);
  }
  {
    // Sequences have no gaps and pruning removes the oldest rows, so the
    // rows kept are the range from the first to the last (no count(*) scan).
    RECURRENT_ASSIGN_OR_RETURN(
        auto stmt, db.Prepare("SELECT sequence, committed_at FROM change_log"
                              " ORDER BY sequence LIMIT 1"));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return stats;
    const int64_t first = stmt.ColumnInt64(0);
    stats.oldest_change_at = stmt.ColumnOptionalTime(1);
    RECURRENT_ASSIGN_OR_RETURN(
        auto last, db.Prepare("SELECT max(sequence) FROM change_log"));
    RECURRENT_ASSIGN_OR_RETURN(const bool found, last.Step());
    if (found) stats.change_log_rows = last.ColumnInt64(0) - first + 1;
  }
  return stats;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_STORAGE_STATS_H_
