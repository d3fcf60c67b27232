#include "persistence/postgres_change_log.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
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

// Inserts `rows` into `table` (change_log or change_log_pending), numbered
// from `next`.
absl::Status InsertRows(Connection& db, absl::string_view table, int64_t next,
                        absl::Span<const ChangeRow> rows) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare(absl::StrCat(
          "INSERT INTO ", table, " (", kChangeLogColumns,
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

}  // namespace

absl::Status PendingChanges::Add(Connection& db,
                                 absl::Span<const ChangeRow> rows) {
  rows_.insert(rows_.end(), rows.begin(), rows.end());
  return rows_.size() > max_in_memory_ ? Move(db) : absl::OkStatus();
}

absl::Status PendingChanges::BeforeSavepoint(Connection& db) {
  return rows_.empty() ? absl::OkStatus() : Move(db);
}

void PendingChanges::RolledBack(size_t size) {
  moved_ = size;
  rows_.clear();
  // The table may have been made after the savepoint, and is then gone:
  // the next Move makes it again (IF NOT EXISTS).
  table_made_ = false;
}

absl::Status PendingChanges::Move(Connection& db) {
  if (!table_made_) {
    // A temporary table lives as long as the connection (rolled back with
    // the transaction that made it); Append empties it before each commit.
    RECURRENT_RETURN_IF_ERROR(
        db.Execute("CREATE TEMPORARY TABLE IF NOT EXISTS change_log_pending"
                   " (LIKE change_log)"));
    table_made_ = true;
  }
  RECURRENT_RETURN_IF_ERROR(
      InsertRows(db, "change_log_pending", moved_ + 1, rows_));
  moved_ += rows_.size();
  rows_.clear();
  return absl::OkStatus();
}

absl::Status PendingChanges::Append(Connection& db) {
  const int64_t count = static_cast<int64_t>(size());
  if (count == 0) return absl::OkStatus();
  int64_t last = 0;
  {
    // Holds the head row's lock until COMMIT: see the header.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE change_log_head"
                   " SET last_sequence = last_sequence + $1::bigint"
                   " RETURNING last_sequence"));
    stmt.BindInt64(1, count);
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) return absl::InternalError("the change log head is missing");
    last = stmt.ColumnInt64(0);
  }
  const int64_t first = last - count + 1;
  if (moved_ > 0) {
    // The table's rows are numbered 1..moved_: shifted to first..
    static const std::string* const kSql = new std::string(
        absl::StrCat("INSERT INTO change_log (", kChangeLogColumns,
                     ") SELECT sequence + $1::bigint - 1,",
                     absl::StripPrefix(kChangeLogColumns, "sequence,"),
                     " FROM change_log_pending ORDER BY sequence"));
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
    stmt.BindInt64(1, first);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
    RECURRENT_RETURN_IF_ERROR(db.Execute("TRUNCATE change_log_pending"));
  }
  RECURRENT_RETURN_IF_ERROR(InsertRows(
      db, "change_log", first + static_cast<int64_t>(moved_), rows_));
  moved_ = 0;
  rows_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChangeRow>> ReadChanges(
    Connection& db, int64_t after, int limit,
    std::optional<int64_t> kind_mask) {
  if (limit <= 0) return std::vector<ChangeRow>();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(absl::StrCat(
          "SELECT ", kChangeLogColumns,
          " FROM change_log WHERE sequence > $1::bigint",
          kind_mask.has_value() ? " AND ($3::bigint >> kind) & 1 = 1" : "",
          " ORDER BY sequence LIMIT $2::bigint")));
  stmt.BindInt64(1, after);
  stmt.BindInt64(2, limit);
  if (kind_mask.has_value()) stmt.BindInt64(3, *kind_mask);
  return ReadChangeRows(stmt);
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
