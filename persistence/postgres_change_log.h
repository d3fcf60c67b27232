// The change log on PostgreSQL: appending at commit, reading in sequence
// order, pruning from the oldest end.
//
// Sequences must increase in commit order (backend.h, contract point 6),
// which a PostgreSQL SEQUENCE does not give: two transactions may take 10
// and 11 and commit 11 first. So a write transaction keeps its rows aside
// (PendingChanges) and appends them as the last thing before COMMIT:
// PendingChanges::Append first updates the one row of change_log_head,
// whose row lock is then held until the commit, so that appending
// transactions commit one after the other, each numbering its rows after
// the previous one's. Only this short tail of a write is serialized;
// everything before it runs in parallel.
//
// Internal to PostgresBackend: every function runs inside a transaction
// held by the caller.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_
#define RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// The rows a write transaction appends, kept until its commit: in memory
// up to `max_in_memory`, beyond that moved, in order, into a temporary
// table of the connection (change_log_pending, empty between
// transactions), so that a write of millions of rows (a reprocess, a
// deleted source) does not hold them all in the server's memory. Their
// `sequence` is ignored. Not thread-safe; lives in one transaction.
class PendingChanges {
 public:
  explicit PendingChanges(size_t max_in_memory)
      : max_in_memory_(max_in_memory) {}

  // Keeps `rows` after those kept before.
  absl::Status Add(Connection& db, absl::Span<const ChangeRow> rows);

  // Call just before a SAVEPOINT: moves the rows in memory into the table,
  // so that a ROLLBACK TO that savepoint undoes exactly the table's rows
  // added after it. Then size() is what to pass to RolledBack().
  absl::Status BeforeSavepoint(Connection& db);
  // The rows kept.
  size_t size() const { return moved_ + rows_.size(); }
  // After a ROLLBACK TO the savepoint at which size() was `size`: forgets
  // the rows kept since.
  void RolledBack(size_t size);

  // Appends every row kept, in order, with the next sequences, and leaves
  // none; call it last, just before COMMIT (see above).
  absl::Status Append(Connection& db);

 private:
  // Moves rows_ into the table.
  absl::Status Move(Connection& db);

  const size_t max_in_memory_;
  bool table_made_ = false;
  size_t moved_ = 0;             // rows in the table (numbered 1..moved_)
  std::vector<ChangeRow> rows_;  // the rows after them
};

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
// before `before`, at most `limit`; returns how many.
absl::StatusOr<int64_t> PruneChanges(Connection& db, absl::Time before,
                                     int limit);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_CHANGE_LOG_H_
