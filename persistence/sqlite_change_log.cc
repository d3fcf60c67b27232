#include "persistence/sqlite_change_log.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "persistence/sqlite_codes.h"

namespace recurrent::persistence::sqlite {
namespace {

// change_log.kind holds ChangeKind's own numbers (records.h: stored, never
// renumbered).
int64_t KindCode(ChangeKind kind) { return static_cast<int64_t>(kind); }

absl::StatusOr<ChangeKind> KindFromCode(int64_t code) {
  switch (code) {
    case 1:
      return ChangeKind::kEventPublished;
    case 2:
      return ChangeKind::kEventRetracted;
    case 3:
      return ChangeKind::kCustomerStatusChanged;
    case 4:
      return ChangeKind::kCustomerChanged;
    case 5:
      return ChangeKind::kSourceChanged;
    default:
      return absl::InternalError(
          absl::StrCat("unknown change kind code ", code, " in the database"));
  }
}

bool IsEvent(ChangeKind kind) {
  return kind == ChangeKind::kEventPublished ||
         kind == ChangeKind::kEventRetracted;
}

absl::StatusOr<ChangeRow> ReadChange(const Statement& stmt) {
  ChangeRow row;
  row.sequence = stmt.ColumnInt64(0);
  row.committed_at = stmt.ColumnTime(1);
  RECURRENT_ASSIGN_OR_RETURN(row.kind, KindFromCode(stmt.ColumnInt64(2)));
  row.data_source_uuid = stmt.ColumnText(3);
  row.customer_uuid = stmt.ColumnText(4);
  std::vector<std::string> sources =
      absl::StrSplit(stmt.ColumnText(5), '\n', absl::SkipEmpty());
  row.customer_sources = std::move(sources);
  if (IsEvent(row.kind)) {
    SubscriptionEvent& event = row.event;
    event.uuid = stmt.ColumnText(6);
    RECURRENT_ASSIGN_OR_RETURN(event.type,
                               EventTypeFromCode(stmt.ColumnInt64(7)));
    event.subscription.uuid = stmt.ColumnText(8);
    event.subscription.external_id = stmt.ColumnText(9);
    event.subscription.customer_uuid = row.customer_uuid;
    event.subscription.data_source_uuid = row.data_source_uuid;
    event.occurred_at = stmt.ColumnTime(10);
  }
  if (row.kind == ChangeKind::kCustomerStatusChanged) {
    RECURRENT_ASSIGN_OR_RETURN(row.status,
                               CustomerStatusFromCode(stmt.ColumnInt64(11)));
    RECURRENT_ASSIGN_OR_RETURN(row.previous_status,
                               CustomerStatusFromCode(stmt.ColumnInt64(12)));
  }
  return row;
}

}  // namespace

absl::Status AppendChanges(Connection& db, absl::Span<const ChangeRow> rows) {
  if (rows.empty()) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO change_log (committed_at, kind,"
                 " data_source_uuid, customer_uuid, customer_sources,"
                 " event_uuid, event_type, subscription_uuid,"
                 " subscription_external_id, occurred_at, status,"
                 " previous_status)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (const ChangeRow& row : rows) {
    stmt.Reset();
    stmt.BindTime(1, row.committed_at);
    stmt.BindInt64(2, KindCode(row.kind));
    stmt.BindText(3, row.data_source_uuid);
    stmt.BindText(4, row.customer_uuid);
    stmt.BindText(5, absl::StrJoin(row.customer_sources, "\n"));
    if (IsEvent(row.kind)) {
      stmt.BindText(6, row.event.uuid);
      stmt.BindInt64(7, EventTypeCode(row.event.type));
      stmt.BindText(8, row.event.subscription.uuid);
      stmt.BindText(9, row.event.subscription.external_id);
      stmt.BindTime(10, row.event.occurred_at);
    } else {
      for (int i = 6; i <= 10; ++i) stmt.BindNull(i);
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

absl::StatusOr<std::vector<ChangeRow>> ReadChanges(Connection& db,
                                                   int64_t after, int limit) {
  std::vector<ChangeRow> rows;
  if (limit <= 0) return rows;  // SQLite reads a negative LIMIT as none
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT sequence, committed_at, kind, data_source_uuid,"
                 " customer_uuid, customer_sources, event_uuid, event_type,"
                 " subscription_uuid, subscription_external_id, occurred_at,"
                 " status, previous_status FROM change_log"
                 " WHERE sequence > ? ORDER BY sequence LIMIT ?"));
  stmt.BindInt64(1, after);
  stmt.BindInt64(2, limit);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) break;
    RECURRENT_ASSIGN_OR_RETURN(ChangeRow row, ReadChange(stmt));
    rows.push_back(std::move(row));
  }
  return rows;
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
