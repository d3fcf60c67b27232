#include "persistence/sqlite_customer_state.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "persistence/customer_columns.h"
#include "persistence/customer_facts_blob.h"
#include "persistence/customer_state_load.h"
#include "persistence/row_codes.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_events.h"
#include "persistence/sqlite_invoices.h"
#include "persistence/sqlite_mrr.h"
#include "persistence/sqlite_subscriptions.h"

namespace recurrent::persistence::sqlite {

absl::StatusOr<CustomerState> LoadCustomerState(Connection& db,
                                                absl::string_view uuid,
                                                bool with_events) {
  static const std::string* const kSql =
      new std::string(CustomerWithFactsSql("?"));
  return LoadCustomerStateWith(
      db, uuid, with_events, *kSql,
      [](Statement& stmt, int column) -> absl::StatusOr<std::string> {
        return std::string(stmt.ColumnBlob(column));
      });
}

absl::StatusOr<int64_t> RebuildStaleCustomerFacts(Connection& db,
                                                  int64_t limit) {
  std::vector<std::pair<int64_t, std::string>> stale;
  {
    // Customers deleted since they were marked have no row to join.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT s.customer_id, c.uuid FROM customer_facts_stale s"
                   " LEFT JOIN customers c ON c.id = s.customer_id"
                   " ORDER BY s.customer_id LIMIT ?"));
    stmt.BindInt64(1, limit);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      stale.emplace_back(stmt.ColumnInt64(0),
                         stmt.ColumnIsNull(1) ? "" : stmt.ColumnText(1));
    }
  }
  if (stale.empty()) return 0;
  RECURRENT_ASSIGN_OR_RETURN(
      Statement write,
      db.Prepare("INSERT OR REPLACE INTO customer_facts (customer_id, facts)"
                 " VALUES (?, ?)"));
  RECURRENT_ASSIGN_OR_RETURN(
      Statement unmark,
      db.Prepare("DELETE FROM customer_facts_stale WHERE customer_id = ?"));
  for (const auto& [key, uuid] : stale) {
    if (!uuid.empty()) {
      RECURRENT_ASSIGN_OR_RETURN(CustomerRecord record,
                                 LoadCustomerRecord(db, uuid));
      CustomerState state;
      RECURRENT_RETURN_IF_ERROR(LoadFactRows(db, std::move(record), state));
      write.Reset();
      write.BindInt64(1, key);
      write.BindBlob(2, EncodeCustomerFacts(state));
      RECURRENT_RETURN_IF_ERROR(write.Run());
    }
    unmark.Reset();
    unmark.BindInt64(1, key);
    RECURRENT_RETURN_IF_ERROR(unmark.Run());
  }
  return static_cast<int64_t>(stale.size());
}

absl::Status WriteEvaluation(Connection& db, const EvaluationWrite& write) {
  if (!write.subscriptions.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE subscriptions SET status = ?, started_at = ?,"
                   " past_due_since = ?, cancelled_at = ?, auto_churned = ?,"
                   " status_reason = ?, current_period_start = ?,"
                   " current_period_end = ? WHERE id = ?"));
    for (const EvaluationWrite::SubscriptionUpdate& update :
         write.subscriptions) {
      const engine::SubscriptionEvaluation& e = update.evaluation;
      stmt.Reset();
      stmt.BindInt64(1, SubscriptionStatusCode(e.status));
      stmt.BindOptionalTime(2, e.started_at);
      stmt.BindOptionalTime(3, e.past_due_since);
      stmt.BindOptionalTime(4, e.cancelled_at);
      stmt.BindInt64(5, e.auto_churned ? 1 : 0);
      stmt.BindText(6, e.status_reason);
      stmt.BindOptionalTime(7, e.current_period_start);
      stmt.BindOptionalTime(8, e.current_period_end);
      stmt.BindInt64(9, update.key);
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (!write.deleted_events.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("DELETE FROM subscription_events WHERE id = ?"));
    for (const RowKey key : write.deleted_events) {
      stmt.Reset();
      stmt.BindInt64(1, key);
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (!write.inserted_events.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO subscription_events (uuid, subscription_id,"
                   " customer_id, data_source_id, type, occurred_at,"
                   " status_after) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    for (const EvaluationWrite::NewEvent& event : write.inserted_events) {
      stmt.Reset();
      stmt.BindText(1, event.uuid);
      stmt.BindInt64(2, event.subscription_key);
      stmt.BindInt64(3, write.customer_key);
      stmt.BindInt64(4, event.source_key);
      stmt.BindInt64(5, EventTypeCode(event.type));
      stmt.BindTime(6, event.occurred_at);
      stmt.BindInt64(7, SubscriptionStatusCode(event.status_after));
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (write.customer.has_value()) {
    const EvaluationWrite::CustomerUpdate& update = *write.customer;
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE customers SET status = ?, derived_tags = ?,"
                   " next_transition_at = ?, status_reason = ? WHERE id = ?"));
    stmt.BindInt64(1, CustomerStatusCode(update.status));
    stmt.BindText(2, absl::StrJoin(update.derived_tags, "\n"));
    stmt.BindOptionalTime(3, update.next_transition_at);
    stmt.BindText(4, update.status_reason);
    stmt.BindInt64(5, write.customer_key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  if (write.mrr.has_value()) {
    RECURRENT_RETURN_IF_ERROR(WriteMrr(db, write.customer_key, *write.mrr));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence::sqlite
