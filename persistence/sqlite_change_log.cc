#include "persistence/sqlite_change_log.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "persistence/change_log_columns.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::sqlite {

absl::Status AppendChanges(Connection& db, absl::Span<const ChangeRow> rows) {
  if (rows.empty()) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO change_log (committed_at, kind,"
                 " data_source_uuid, customer_uuid, customer_sources,"
                 " event_uuid, event_type, subscription_uuid,"
                 " subscription_external_id, occurred_at, status,"
                 " previous_status, event_status_after)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (const ChangeRow& row : rows) {
    stmt.Reset();
    stmt.BindTime(1, row.committed_at);
    stmt.BindInt64(2, ChangeKindCode(row.kind));
    stmt.BindText(3, row.data_source_uuid);
    stmt.BindText(4, row.customer_uuid);
    stmt.BindText(5, absl::StrJoin(row.customer_sources, "\n"));
    if (IsEventChange(row.kind)) {
      stmt.BindText(6, row.event.uuid);
      stmt.BindInt64(7, EventTypeCode(row.event.type));
      stmt.BindText(8, row.event.subscription.uuid);
      stmt.BindText(9, row.event.subscription.external_id);
      stmt.BindTime(10, row.event.occurred_at);
      stmt.BindInt64(13, SubscriptionStatusCode(row.event.status_after));
    } else {
      for (int i = 6; i <= 10; ++i) stmt.BindNull(i);
      stmt.BindNull(13);
    }
    if (row.kind == ChangeKind::kCustomerStatusChanged) {
      stmt.BindInt64(11, CustomerStatusCode(row.status));
      stmt.BindInt64(12, CustomerStatusCode(row.previous_status));
    } else {
      stmt.BindNull(11);
      stmt.BindNull(12);
    }
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChangeRow>> ReadChanges(
    Connection& db, int64_t after, int limit,
    std::optional<int64_t> kind_mask) {
  // SQLite reads a negative LIMIT as none.
  if (limit <= 0) return std::vector<ChangeRow>();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(absl::StrCat(
          "SELECT ", kChangeLogColumns, " FROM change_log WHERE sequence > ?1",
          kind_mask.has_value() ? " AND (?3 >> kind) & 1 = 1" : "",
          " ORDER BY sequence LIMIT ?2")));
  stmt.BindInt64(1, after);
  stmt.BindInt64(2, limit);
  if (kind_mask.has_value()) stmt.BindInt64(3, *kind_mask);
  return ReadChangeRows(stmt);
}

absl::StatusOr<int64_t> LastChangeSequence(Connection& db) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"));
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  return found ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<int64_t> PruneChanges(Connection& db, absl::Time before,
                                     int limit) {
  if (limit <= 0) return 0;
  // The last sequence of the old prefix, reading the oldest rows only.
  int64_t last = 0;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT sequence, committed_at FROM change_log"
                   " ORDER BY sequence LIMIT ?"));
    stmt.BindInt64(1, limit);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
      if (!found || stmt.ColumnTime(1) >= before) break;
      last = stmt.ColumnInt64(0);
    }
  }
  if (last == 0) return 0;
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM change_log WHERE sequence <= ?"));
  stmt.BindInt64(1, last);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  return db.Changes();
}

}  // namespace recurrent::persistence::sqlite
