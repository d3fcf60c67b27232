#include "persistence/sqlite_subscriptions.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"
#include "persistence/ids.h"
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
    ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT s.customer_id, c.uuid FROM subscriptions s"
                   " JOIN customers c ON c.id = s.customer_id"
                   " WHERE s.data_source_id = ? AND s.external_id = ?"));
    stmt.BindInt64(1, source_key);
    stmt.BindText(2, external_id);
    ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (found) {
      if (stmt.ColumnInt64(0) == customer_key) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(
          "subscription '", external_id, "' of data source ", source_uuid,
          " belongs to another customer (", stmt.ColumnText(1), ")"));
    }
  }
  ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO subscriptions (uuid, customer_id,"
                 " data_source_id, external_id) VALUES (?, ?, ?, ?)"));
  stmt.BindText(1, NewId(kSubscriptionIdPrefix));
  stmt.BindInt64(2, customer_key);
  stmt.BindInt64(3, source_key);
  stmt.BindText(4, external_id);
  return stmt.Run();
}

absl::Status DeleteSubscriptionsWithoutLineItems(Connection& db,
                                                 int64_t customer_key) {
  ASSIGN_OR_RETURN(
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
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  ASSIGN_OR_RETURN(const bool found, stmt.Step());
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
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  std::vector<SubscriptionRow> rows;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    rows.push_back(ReadSubscriptionRow(stmt));
  }
  return rows;
}

absl::Status InsertCancellation(Connection& db, int64_t subscription_key,
                                absl::Time cancelled_at, absl::Time now) {
  ASSIGN_OR_RETURN(
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
  ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.uuid, s.external_id, x.cancelled_at"
                 " FROM subscriptions s"
                 " JOIN cancellations x ON x.subscription_id = s.id"
                 " JOIN data_sources d ON d.id = s.data_source_id"
                 " WHERE s.customer_id = ? ORDER BY s.id, x.cancelled_at"));
  stmt.BindInt64(1, customer_key);
  std::vector<engine::Cancellation> cancellations;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    cancellations.push_back(engine::Cancellation{
        stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnTime(2)});
  }
  return cancellations;
}

absl::Status StoreSubscriptionEvaluation(
    Connection& db, int64_t key,
    const engine::SubscriptionEvaluation* evaluation) {
  static const engine::SubscriptionEvaluation* const kNotStarted =
      new engine::SubscriptionEvaluation();
  const engine::SubscriptionEvaluation& e =
      evaluation != nullptr ? *evaluation : *kNotStarted;
  ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("UPDATE subscriptions SET status = ?, started_at = ?,"
                 " past_due_since = ?, cancelled_at = ?, auto_churned = ?,"
                 " status_reason = ?, current_period_start = ?,"
                 " current_period_end = ? WHERE id = ?"));
  stmt.BindInt64(1, SubscriptionStatusCode(e.status));
  stmt.BindOptionalTime(2, e.started_at);
  stmt.BindOptionalTime(3, e.past_due_since);
  stmt.BindOptionalTime(4, e.cancelled_at);
  stmt.BindInt64(5, e.auto_churned ? 1 : 0);
  stmt.BindText(6, e.status_reason);
  stmt.BindOptionalTime(7, e.current_period_start);
  stmt.BindOptionalTime(8, e.current_period_end);
  stmt.BindInt64(9, key);
  return stmt.Run();
}

}  // namespace recurrent::persistence::sqlite
