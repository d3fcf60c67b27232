#include "persistence/postgres_customer_state.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "persistence/customer_columns.h"
#include "persistence/customer_facts_blob.h"
#include "persistence/customer_state_load.h"
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/postgres_events.h"
#include "persistence/postgres_invoices.h"
#include "persistence/postgres_mrr.h"
#include "persistence/postgres_subscriptions.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {
namespace {

// An optional time (microseconds, as BindOptionalTime stores it) in the text
// form BindNullableArray takes.
std::optional<std::string> OptionalMicros(
    const std::optional<absl::Time>& time) {
  if (!time.has_value()) return std::nullopt;
  return absl::StrCat(absl::ToUnixMicros(*time));
}

// Stores the evaluations of `updates` (the last one of a key wins, as if
// applied in order).
absl::Status UpdateSubscriptions(
    Connection& db,
    const std::vector<EvaluationWrite::SubscriptionUpdate>& updates) {
  std::unordered_map<RowKey, size_t> last;
  last.reserve(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) last[updates[i].key] = i;
  const size_t n = last.size();
  std::vector<int64_t> keys, statuses, auto_churned;
  std::vector<std::optional<std::string>> started, past_due, cancelled,
      period_start, period_end;
  std::vector<std::string> reasons;
  for (std::vector<int64_t>* column : {&keys, &statuses, &auto_churned}) {
    column->reserve(n);
  }
  for (std::vector<std::optional<std::string>>* column :
       {&started, &past_due, &cancelled, &period_start, &period_end}) {
    column->reserve(n);
  }
  reasons.reserve(n);
  for (size_t i = 0; i < updates.size(); ++i) {
    const EvaluationWrite::SubscriptionUpdate& update = updates[i];
    if (last.at(update.key) != i) continue;
    const engine::SubscriptionEvaluation& e = update.evaluation;
    keys.push_back(update.key);
    statuses.push_back(SubscriptionStatusCode(e.status));
    started.push_back(OptionalMicros(e.started_at));
    past_due.push_back(OptionalMicros(e.past_due_since));
    cancelled.push_back(OptionalMicros(e.cancelled_at));
    auto_churned.push_back(e.auto_churned ? 1 : 0);
    reasons.push_back(e.status_reason);
    period_start.push_back(OptionalMicros(e.current_period_start));
    period_end.push_back(OptionalMicros(e.current_period_end));
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("UPDATE subscriptions s SET status = u.status,"
                 " started_at = u.started_at,"
                 " past_due_since = u.past_due_since,"
                 " cancelled_at = u.cancelled_at,"
                 " auto_churned = u.auto_churned,"
                 " status_reason = u.status_reason,"
                 " current_period_start = u.current_period_start,"
                 " current_period_end = u.current_period_end"
                 " FROM unnest($1::bigint[], $2::integer[], $3::bigint[],"
                 " $4::bigint[], $5::bigint[], $6::integer[], $7::text[],"
                 " $8::bigint[], $9::bigint[])"
                 " AS u(id, status, started_at, past_due_since, cancelled_at,"
                 " auto_churned, status_reason, current_period_start,"
                 " current_period_end)"
                 " WHERE s.id = u.id"));
  stmt.BindInt64Array(1, keys);
  stmt.BindInt64Array(2, statuses);
  stmt.BindNullableArray(3, started);
  stmt.BindNullableArray(4, past_due);
  stmt.BindNullableArray(5, cancelled);
  stmt.BindInt64Array(6, auto_churned);
  stmt.BindTextArray(7, reasons);
  stmt.BindNullableArray(8, period_start);
  stmt.BindNullableArray(9, period_end);
  return stmt.Run();
}

// Inserts `events` of customer `customer_key`, keys increasing in order.
absl::Status InsertEvents(
    Connection& db, int64_t customer_key,
    const std::vector<EvaluationWrite::NewEvent>& events) {
  const size_t n = events.size();
  std::vector<std::string> uuids;
  std::vector<int64_t> subscriptions, sources, types, times, statuses;
  uuids.reserve(n);
  for (std::vector<int64_t>* column :
       {&subscriptions, &sources, &types, &times, &statuses}) {
    column->reserve(n);
  }
  for (const EvaluationWrite::NewEvent& event : events) {
    uuids.push_back(event.uuid);
    subscriptions.push_back(event.subscription_key);
    sources.push_back(event.source_key);
    types.push_back(EventTypeCode(event.type));
    times.push_back(absl::ToUnixMicros(event.occurred_at));
    statuses.push_back(SubscriptionStatusCode(event.status_after));
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO subscription_events (uuid, subscription_id,"
                 " customer_id, data_source_id, type, occurred_at,"
                 " status_after)"
                 " SELECT r.uuid, r.subscription_id, $1::bigint,"
                 " r.data_source_id, r.type, r.occurred_at, r.status_after"
                 " FROM unnest($2::text[], $3::bigint[], $4::bigint[],"
                 " $5::integer[], $6::bigint[], $7::integer[])"
                 " WITH ORDINALITY"
                 " AS r(uuid, subscription_id, data_source_id, type,"
                 " occurred_at, status_after, ord)"
                 " ORDER BY r.ord"));
  stmt.BindInt64(1, customer_key);
  stmt.BindTextArray(2, uuids);
  stmt.BindInt64Array(3, subscriptions);
  stmt.BindInt64Array(4, sources);
  stmt.BindInt64Array(5, types);
  stmt.BindInt64Array(6, times);
  stmt.BindInt64Array(7, statuses);
  return stmt.Run();
}

// A bytea in its text (hex) form, "\x0a1b...", both ways.
std::string ByteaText(absl::string_view bytes) {
  return absl::StrCat("\\x", absl::BytesToHexString(bytes));
}
absl::StatusOr<std::string> FromByteaText(absl::string_view text) {
  if (!absl::ConsumePrefix(&text, "\\x") || text.size() % 2 != 0 ||
      !absl::c_all_of(text, absl::ascii_isxdigit)) {
    return absl::DataLossError("customer facts blob: not a hex bytea");
  }
  return absl::HexStringToBytes(text);
}

}  // namespace

absl::StatusOr<CustomerState> LoadCustomerState(Connection& db,
                                                absl::string_view uuid,
                                                bool with_events) {
  static const std::string* const kSql =
      new std::string(CustomerWithFactsSql("$1"));
  return LoadCustomerStateWith(db, uuid, with_events, *kSql,
                               [](Statement& stmt, int column) {
                                 return FromByteaText(stmt.ColumnText(column));
                               });
}

absl::Status RebuildAllStaleCustomerFacts(Connection& db) {
  constexpr int64_t kChunk = 1000;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const int64_t rebuilt,
                               RebuildStaleCustomerFacts(db, kChunk));
    if (rebuilt < kChunk) return absl::OkStatus();
  }
}

absl::StatusOr<int64_t> RebuildStaleCustomerFacts(Connection& db,
                                                  int64_t limit) {
  std::vector<std::pair<int64_t, std::string>> stale;
  {
    // Only this transaction's marks: it holds the locks of those customers'
    // sources, so no other write changes their rows before it commits.
    // Customers deleted since they were marked have no row to join.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT s.customer_id, c.uuid FROM customer_facts_stale s"
                   " LEFT JOIN customers c ON c.id = s.customer_id"
                   " WHERE s.xact = pg_current_xact_id_if_assigned()"
                   " ORDER BY s.customer_id LIMIT $1"));
    stmt.BindInt64(1, limit);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      stale.emplace_back(stmt.ColumnInt64(0),
                         stmt.ColumnIsNull(1) ? "" : stmt.ColumnText(1));
    }
  }
  if (stale.empty()) return 0;
  std::vector<int64_t> keys;
  std::vector<std::string> blobs;
  std::vector<int64_t> done;
  for (const auto& [key, uuid] : stale) {
    done.push_back(key);
    if (uuid.empty()) continue;
    RECURRENT_ASSIGN_OR_RETURN(CustomerRecord record,
                               LoadCustomerRecord(db, uuid));
    CustomerState state;
    RECURRENT_RETURN_IF_ERROR(LoadFactRows(db, std::move(record), state));
    keys.push_back(key);
    blobs.push_back(ByteaText(EncodeCustomerFacts(state)));
  }
  if (!keys.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO customer_facts (customer_id, facts)"
                   " SELECT * FROM unnest($1::bigint[], $2::bytea[])"
                   " ON CONFLICT (customer_id)"
                   " DO UPDATE SET facts = EXCLUDED.facts"));
    stmt.BindInt64Array(1, keys);
    stmt.BindTextArray(2, blobs);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement unmark,
      db.Prepare("DELETE FROM customer_facts_stale"
                 " WHERE customer_id = ANY($1::bigint[])"));
  unmark.BindInt64Array(1, done);
  RECURRENT_RETURN_IF_ERROR(unmark.Run());
  return static_cast<int64_t>(stale.size());
}

absl::Status WriteEvaluation(Connection& db, const EvaluationWrite& write) {
  if (!write.subscriptions.empty()) {
    RECURRENT_RETURN_IF_ERROR(UpdateSubscriptions(db, write.subscriptions));
  }
  if (!write.deleted_events.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare(
            "DELETE FROM subscription_events WHERE id = ANY($1::bigint[])"));
    stmt.BindInt64Array(1, write.deleted_events);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  if (!write.inserted_events.empty()) {
    RECURRENT_RETURN_IF_ERROR(
        InsertEvents(db, write.customer_key, write.inserted_events));
  }
  if (write.customer.has_value()) {
    const EvaluationWrite::CustomerUpdate& update = *write.customer;
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE customers SET status = $1, derived_tags = $2,"
                   " next_transition_at = $3, status_reason = $4"
                   " WHERE id = $5"));
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

}  // namespace recurrent::persistence::postgres
