#include "persistence/sqlite_subscriptions.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "persistence/sqlite_codes.h"

namespace recurrent::persistence::sqlite {
namespace {

// Columns of a subscriptions row (alias s) joined with its customer and
// source, in the order ReadSubscriptionRow expects.
constexpr absl::string_view kSubscriptionSelect =
    "SELECT s.id, s.customer_id, s.data_source_id, s.uuid, c.uuid, d.uuid,"
    " s.external_id FROM subscriptions s"
    " JOIN customers c ON c.id = s.customer_id"
    " JOIN data_sources d ON d.id = s.data_source_id";

SubscriptionRow ReadSubscriptionRow(const Statement& stmt) {
  SubscriptionRow row;
  row.key = stmt.ColumnInt64(0);
  row.customer_key = stmt.ColumnInt64(1);
  row.source_key = stmt.ColumnInt64(2);
  row.ref.uuid = stmt.ColumnText(3);
  row.ref.customer_uuid = stmt.ColumnText(4);
  row.ref.data_source_uuid = stmt.ColumnText(5);
  row.ref.external_id = stmt.ColumnText(6);
  return row;
}

}  // namespace

absl::Status EnsureSubscription(Connection& db, int64_t customer_key,
                                int64_t source_key,
                                absl::string_view source_uuid,
                                absl::string_view external_id) {
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT s.customer_id, c.uuid FROM subscriptions s"
                   " JOIN customers c ON c.id = s.customer_id"
                   " WHERE s.data_source_id = ? AND s.external_id = ?"));
    stmt.BindInt64(1, source_key);
    stmt.BindText(2, external_id);
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (found) {
      if (stmt.ColumnInt64(0) == customer_key) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(
          "subscription '", external_id, "' of data source ", source_uuid,
          " belongs to another customer (", stmt.ColumnText(1), ")"));
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO subscriptions (uuid, customer_id,"
                 " data_source_id, external_id) VALUES (?, ?, ?, ?)"));
  stmt.BindText(1, common::NewId(common::kSubscriptionIdPrefix));
  stmt.BindInt64(2, customer_key);
  stmt.BindInt64(3, source_key);
  stmt.BindText(4, external_id);
  return stmt.Run();
}

absl::Status DeleteSubscriptionsWithoutLineItems(Connection& db,
                                                 int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("DELETE FROM subscriptions WHERE customer_id = ?1"
                 " AND NOT EXISTS (SELECT 1 FROM line_items li"
                 " WHERE li.data_source_id = subscriptions.data_source_id"
                 " AND li.subscription_external_id = subscriptions.external_id"
                 " AND li.type IN (?2, ?3))"));
  stmt.BindInt64(1, customer_key);
  stmt.BindInt64(2, LineItemTypeCode(engine::LineItemType::kSubscription));
  stmt.BindInt64(3, LineItemTypeCode(engine::LineItemType::kTrial));
  return stmt.Run();
}

absl::StatusOr<SubscriptionRow> FindSubscription(Connection& db,
                                                 absl::string_view uuid) {
  static const std::string* const kSql =
      new std::string(absl::StrCat(kSubscriptionSelect, " WHERE s.uuid = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("subscription ", uuid, " not found"));
  }
  return ReadSubscriptionRow(stmt);
}

absl::StatusOr<std::vector<SubscriptionRow>> LoadCustomerSubscriptions(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      kSubscriptionSelect, " WHERE s.customer_id = ? ORDER BY s.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  std::vector<SubscriptionRow> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    rows.push_back(ReadSubscriptionRow(stmt));
  }
  return rows;
}

absl::Status InsertCancellation(Connection& db, int64_t subscription_key,
                                absl::Time cancelled_at, absl::Time now) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT OR IGNORE INTO cancellations (subscription_id,"
                 " cancelled_at, recorded_at) VALUES (?, ?, ?)"));
  stmt.BindInt64(1, subscription_key);
  stmt.BindTime(2, cancelled_at);
  stmt.BindTime(3, now);
  return stmt.Run();
}

absl::StatusOr<std::vector<engine::Cancellation>> LoadCustomerCancellations(
    Connection& db, int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.uuid, s.external_id, x.cancelled_at"
                 " FROM subscriptions s"
                 " JOIN cancellations x ON x.subscription_id = s.id"
                 " JOIN data_sources d ON d.id = s.data_source_id"
                 " WHERE s.customer_id = ? ORDER BY s.id, x.cancelled_at"));
  stmt.BindInt64(1, customer_key);
  std::vector<engine::Cancellation> cancellations;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    cancellations.push_back(engine::Cancellation{
        stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnTime(2)});
  }
  return cancellations;
}

const absl::string_view kStoredSubscriptionColumns =
    "s.id, s.customer_id, s.data_source_id, s.uuid, c.uuid, d.uuid,"
    " s.external_id, s.status, s.started_at, s.past_due_since,"
    " s.cancelled_at, s.auto_churned, s.status_reason,"
    " s.current_period_start, s.current_period_end";

absl::StatusOr<StoredSubscription> ReadStoredSubscription(const Statement& stmt,
                                                          int first_column) {
  const int f = first_column;
  StoredSubscription stored;
  SubscriptionRow& row = stored.row;
  row.key = stmt.ColumnInt64(f);
  row.customer_key = stmt.ColumnInt64(f + 1);
  row.source_key = stmt.ColumnInt64(f + 2);
  row.ref.uuid = stmt.ColumnText(f + 3);
  row.ref.customer_uuid = stmt.ColumnText(f + 4);
  row.ref.data_source_uuid = stmt.ColumnText(f + 5);
  row.ref.external_id = stmt.ColumnText(f + 6);
  engine::SubscriptionEvaluation& e = stored.evaluation;
  RECURRENT_ASSIGN_OR_RETURN(
      e.status, SubscriptionStatusFromCode(stmt.ColumnInt64(f + 7)));
  e.started_at = stmt.ColumnOptionalTime(f + 8);
  e.past_due_since = stmt.ColumnOptionalTime(f + 9);
  e.cancelled_at = stmt.ColumnOptionalTime(f + 10);
  e.auto_churned = stmt.ColumnInt64(f + 11) != 0;
  e.status_reason = stmt.ColumnText(f + 12);
  e.current_period_start = stmt.ColumnOptionalTime(f + 13);
  e.current_period_end = stmt.ColumnOptionalTime(f + 14);
  return stored;
}

absl::StatusOr<std::vector<StoredSubscription>> LoadStoredSubscriptions(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kStoredSubscriptionColumns,
      " FROM subscriptions s JOIN customers c ON c.id = s.customer_id"
      " JOIN data_sources d ON d.id = s.data_source_id"
      " WHERE s.customer_id = ? ORDER BY s.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  std::vector<StoredSubscription> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    RECURRENT_ASSIGN_OR_RETURN(StoredSubscription stored,
                               ReadStoredSubscription(stmt, 0));
    rows.push_back(std::move(stored));
  }
  return rows;
}

namespace {

// Times are stored in microseconds: compare what would be stored.
bool SameMicros(const std::optional<absl::Time>& a,
                const std::optional<absl::Time>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || absl::ToUnixMicros(*a) == absl::ToUnixMicros(*b);
}

}  // namespace

bool SameStoredEvaluation(const engine::SubscriptionEvaluation& stored,
                          const engine::SubscriptionEvaluation& evaluated) {
  return stored.status == evaluated.status &&
         SameMicros(stored.started_at, evaluated.started_at) &&
         SameMicros(stored.past_due_since, evaluated.past_due_since) &&
         SameMicros(stored.cancelled_at, evaluated.cancelled_at) &&
         stored.auto_churned == evaluated.auto_churned &&
         stored.status_reason == evaluated.status_reason &&
         SameMicros(stored.current_period_start,
                    evaluated.current_period_start) &&
         SameMicros(stored.current_period_end, evaluated.current_period_end);
}

}  // namespace recurrent::persistence::sqlite
