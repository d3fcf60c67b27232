#include "persistence/postgres_change_log.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "persistence/change_log_columns.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {
namespace {

// Rows per INSERT (kColumns array parameters each).
constexpr size_t kAppendBatch = 1000;
// The columns of kChangeLogColumns.
constexpr int kColumns = 14;

using Column = std::vector<std::optional<std::string>>;

std::optional<std::string> Number(int64_t value) {
  return absl::StrCat(value);
}
std::optional<std::string> Micros(absl::Time t) {
  return Number(absl::ToUnixMicros(t));
}

}  // namespace

absl::Status AppendChanges(Connection& db, absl::Span<const ChangeRow> rows) {
  if (rows.empty()) return absl::OkStatus();
  int64_t last = 0;
  {
    // Holds the head row's lock until COMMIT: see the header.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE change_log_head"
                   " SET last_sequence = last_sequence + $1::bigint"
                   " RETURNING last_sequence"));
    stmt.BindInt64(1, static_cast<int64_t>(rows.size()));
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) return absl::InternalError("the change log head is missing");
    last = stmt.ColumnInt64(0);
  }
  int64_t next = last - static_cast<int64_t>(rows.size()) + 1;
  RECURRENT_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare(absl::StrCat(
          "INSERT INTO change_log (", kChangeLogColumns,
          ") SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[],"
          " $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],"
          " $9::text[], $10::text[], $11::bigint[], $12::int[], $13::int[],"
          " $14::int[])")));
  for (size_t begin = 0; begin < rows.size(); begin += kAppendBatch) {
    const size_t end = std::min(rows.size(), begin + kAppendBatch);
    std::vector<Column> columns(kColumns);
    for (Column& column : columns) column.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      const ChangeRow& row = rows[i];
      columns[0].push_back(Number(next++));
      columns[1].push_back(Micros(row.committed_at));
      columns[2].push_back(Number(ChangeKindCode(row.kind)));
      columns[3].push_back(row.data_source_uuid);
      columns[4].push_back(row.customer_uuid);
      columns[5].push_back(absl::StrJoin(row.customer_sources, "\n"));
      const bool event = IsEventChange(row.kind);
      columns[6].push_back(event ? std::optional<std::string>(row.event.uuid)
                                 : std::nullopt);
      columns[7].push_back(event ? Number(EventTypeCode(row.event.type))
                                 : std::nullopt);
      columns[8].push_back(
          event ? std::optional<std::string>(row.event.subscription.uuid)
                : std::nullopt);
      columns[9].push_back(event ? std::optional<std::string>(
                                       row.event.subscription.external_id)
                                 : std::nullopt);
      columns[10].push_back(event ? Micros(row.event.occurred_at)
                                  : std::nullopt);
      const bool status = row.kind == ChangeKind::kCustomerStatusChanged;
      columns[11].push_back(status ? Number(CustomerStatusCode(row.status))
                                   : std::nullopt);
      columns[12].push_back(
          status ? Number(CustomerStatusCode(row.previous_status))
                 : std::nullopt);
      columns[13].push_back(
          event ? Number(SubscriptionStatusCode(row.event.status_after))
                : std::nullopt);
    }
    for (int c = 0; c < kColumns; ++c) {
      insert.BindNullableArray(c + 1, columns[c]);
    }
    RECURRENT_RETURN_IF_ERROR(insert.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChangeRow>> ReadChanges(Connection& db,
                                                   int64_t after, int limit) {
  std::vector<ChangeRow> rows;
  if (limit <= 0) return rows;
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(absl::StrCat("SELECT ", kChangeLogColumns,
                              " FROM change_log WHERE sequence > $1::bigint"
                              " ORDER BY sequence LIMIT $2::bigint")));
  stmt.BindInt64(1, after);
  stmt.BindInt64(2, limit);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) break;
    RECURRENT_ASSIGN_OR_RETURN(ChangeRow row, ReadChangeRow(stmt));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<int64_t> LastChangeSequence(Connection& db) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("SELECT last_sequence FROM change_log_head"));
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  return found ? stmt.ColumnInt64(0) : 0;
}

absl::StatusOr<int64_t> PruneChanges(Connection& db, absl::Time before,
                                     int limit) {
  if (limit <= 0) return 0;
  // The oldest `limit` rows, up to the first one not old enough.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("DELETE FROM change_log WHERE sequence <= ("
                 " SELECT max(sequence) FROM ("
                 "  SELECT sequence FROM change_log"
                 "  ORDER BY sequence LIMIT $2::bigint) oldest"
                 " WHERE sequence < coalesce((SELECT min(sequence) FROM ("
                 "   SELECT sequence, committed_at FROM change_log"
                 "   ORDER BY sequence LIMIT $2::bigint) o"
                 "  WHERE committed_at >= $1::bigint), 9223372036854775807))"));
  stmt.BindTime(1, before);
  stmt.BindInt64(2, limit);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  return stmt.RowsAffected();
}

}  // namespace recurrent::persistence::postgres
