// The columns of a change_log row, read and written alike by both backends
// (their Statement classes share the Step/Bind/Column shape).
//
// Columns, in this order: sequence, committed_at, kind, data_source_uuid,
// customer_uuid, customer_sources (source uuids, one per line), event_uuid,
// event_type, subscription_uuid, subscription_external_id, occurred_at
// (event rows only, else NULL), status, previous_status (status rows only),
// event_status_after (event rows only).
#ifndef RECURRENT_PERSISTENCE_CHANGE_LOG_COLUMNS_H_
#define RECURRENT_PERSISTENCE_CHANGE_LOG_COLUMNS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "common/status_macros.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence {

// The select list of ReadChangeRow, in its order.
inline constexpr char kChangeLogColumns[] =
    "sequence, committed_at, kind, data_source_uuid, customer_uuid,"
    " customer_sources, event_uuid, event_type, subscription_uuid,"
    " subscription_external_id, occurred_at, status, previous_status,"
    " event_status_after";

// The codes of `kinds` as bits (bit c for code c), for a query's
// "(mask >> kind) & 1 = 1".
inline int64_t ChangeKindCodeMask(absl::Span<const ChangeKind> kinds) {
  int64_t mask = 0;
  for (const ChangeKind kind : kinds)
    mask |= int64_t{1} << ChangeKindCode(kind);
  return mask;
}

inline bool IsEventChange(ChangeKind kind) {
  return kind == ChangeKind::kEventPublished ||
         kind == ChangeKind::kEventRetracted;
}

// Reads the current row of `stmt`, selected as kChangeLogColumns.
template <typename Statement>
absl::StatusOr<ChangeRow> ReadChangeRow(const Statement& stmt) {
  ChangeRow row;
  row.sequence = stmt.ColumnInt64(0);
  row.committed_at = stmt.ColumnTime(1);
  RECURRENT_ASSIGN_OR_RETURN(row.kind, ChangeKindFromCode(stmt.ColumnInt64(2)));
  row.data_source_uuid = stmt.ColumnText(3);
  row.customer_uuid = stmt.ColumnText(4);
  std::vector<std::string> sources =
      absl::StrSplit(stmt.ColumnText(5), '\n', absl::SkipEmpty());
  row.customer_sources = std::move(sources);
  if (IsEventChange(row.kind)) {
    SubscriptionEvent& event = row.event;
    event.uuid = stmt.ColumnText(6);
    RECURRENT_ASSIGN_OR_RETURN(event.type,
                               EventTypeFromCode(stmt.ColumnInt64(7)));
    event.subscription.uuid = stmt.ColumnText(8);
    event.subscription.external_id = stmt.ColumnText(9);
    event.subscription.customer_uuid = row.customer_uuid;
    event.subscription.data_source_uuid = row.data_source_uuid;
    event.occurred_at = stmt.ColumnTime(10);
    RECURRENT_ASSIGN_OR_RETURN(
        event.status_after, SubscriptionStatusFromCode(stmt.ColumnInt64(13)));
  }
  if (row.kind == ChangeKind::kCustomerStatusChanged) {
    RECURRENT_ASSIGN_OR_RETURN(row.status,
                               CustomerStatusFromCode(stmt.ColumnInt64(11)));
    RECURRENT_ASSIGN_OR_RETURN(row.previous_status,
                               CustomerStatusFromCode(stmt.ColumnInt64(12)));
  }
  return row;
}

// Steps `stmt`, which selects kChangeLogColumns, to its end and reads every
// row.
template <typename Statement>
absl::StatusOr<std::vector<ChangeRow>> ReadChangeRows(Statement& stmt) {
  std::vector<ChangeRow> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) return rows;
    RECURRENT_ASSIGN_OR_RETURN(ChangeRow row, ReadChangeRow(stmt));
    rows.push_back(std::move(row));
  }
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_CHANGE_LOG_COLUMNS_H_
