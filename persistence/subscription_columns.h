// The columns of a subscription with its stored evaluation, read alike by
// both backends (their Statement classes share the Column shape).
#ifndef RECURRENT_PERSISTENCE_SUBSCRIPTION_COLUMNS_H_
#define RECURRENT_PERSISTENCE_SUBSCRIPTION_COLUMNS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence {

// The columns ReadStoredSubscription() expects, for a query over
// `subscriptions s JOIN customers c ON c.id = s.customer_id JOIN
// data_sources d ON d.id = s.data_source_id`.
// ReadStoredSubscription: a subscription row with its stored evaluation
// (`events`, `data_source_uuid` and `subscription_external_id` of the
// evaluation are left empty), from column `first_column` on.
inline constexpr absl::string_view kStoredSubscriptionColumns =
    "s.id, s.data_source_id, s.uuid, c.uuid, d.uuid, s.external_id,"
    " s.status, s.started_at, s.past_due_since, s.cancelled_at,"
    " s.auto_churned, s.status_reason, s.current_period_start,"
    " s.current_period_end";

template <typename Statement>
absl::StatusOr<SubscriptionRow> ReadStoredSubscription(const Statement& stmt,
                                                       int first_column) {
  const int f = first_column;
  SubscriptionRow row;
  row.key = stmt.ColumnInt64(f);
  row.source_key = stmt.ColumnInt64(f + 1);
  row.ref.uuid = stmt.ColumnText(f + 2);
  row.ref.customer_uuid = stmt.ColumnText(f + 3);
  row.ref.data_source_uuid = stmt.ColumnText(f + 4);
  row.ref.external_id = stmt.ColumnText(f + 5);
  engine::SubscriptionEvaluation& e = row.evaluation;
  RECURRENT_ASSIGN_OR_RETURN(
      e.status, SubscriptionStatusFromCode(stmt.ColumnInt64(f + 6)));
  e.started_at = stmt.ColumnOptionalTime(f + 7);
  e.past_due_since = stmt.ColumnOptionalTime(f + 8);
  e.cancelled_at = stmt.ColumnOptionalTime(f + 9);
  e.auto_churned = stmt.ColumnInt64(f + 10) != 0;
  e.status_reason = stmt.ColumnText(f + 11);
  e.current_period_start = stmt.ColumnOptionalTime(f + 12);
  e.current_period_end = stmt.ColumnOptionalTime(f + 13);
  return row;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SUBSCRIPTION_COLUMNS_H_
