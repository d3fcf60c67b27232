#include "persistence/postgres_events.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/filter_keys.h"
#include "persistence/page_token.h"
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {

absl::StatusOr<std::vector<EventRow>> LoadCustomerEvents(Connection& db,
                                                         int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT id, subscription_id, type, occurred_at, status_after"
                 " FROM subscription_events WHERE customer_id = $1"));
  stmt.BindInt64(1, customer_key);
  std::vector<EventRow> events;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    EventRow event;
    event.key = stmt.ColumnInt64(0);
    event.subscription_key = stmt.ColumnInt64(1);
    RECURRENT_ASSIGN_OR_RETURN(event.type,
                               EventTypeFromCode(stmt.ColumnInt64(2)));
    event.occurred_at = stmt.ColumnTime(3);
    RECURRENT_ASSIGN_OR_RETURN(event.status_after,
                               SubscriptionStatusFromCode(stmt.ColumnInt64(4)));
    events.push_back(event);
  }
  return events;
}

absl::StatusOr<Page<SubscriptionEvent>> LoadEventPage(Connection& db,
                                                      const EventFilter& filter,
                                                      const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  if (filter.customer_uuid.empty() && filter.data_source_uuid.empty()) {
    return absl::InvalidArgumentError(
        "events need a customer or a data source filter");
  }
  // as_of is not part of the query's identity: a caller that defaults it to
  // "now" may page on as time passes.
  const uint64_t fingerprint = QueryFingerprint(
      "subscription_events", {filter.customer_uuid, filter.data_source_uuid});
  // The first page starts before any event: ids are positive.
  PageKey after{std::numeric_limits<int64_t>::min(), 0};
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        after, DecodePairPageToken(page.page_token, fingerprint));
  }
  RECURRENT_ASSIGN_OR_RETURN(
      const FilterKeys keys,
      FindFilterKeys(db, filter.customer_uuid, filter.data_source_uuid));
  const int64_t customer_key = keys.customer;
  const int64_t source_key = keys.source;
  // Walks the customer's (or else the source's) (occurred_at, id) index from
  // the cursor. $1 as_of, $2/$3 cursor, $4 limit, then the keys filtered on
  // (3 variants; PostgreSQL needs every parameter up to the highest to be
  // used): $5 customer and $6 source, or $5 source.
  std::string sql =
      "SELECT e.id, e.uuid, e.type, e.occurred_at, s.uuid, c.uuid, d.uuid,"
      " s.external_id, e.status_after FROM subscription_events e"
      " JOIN subscriptions s ON s.id = e.subscription_id"
      " JOIN customers c ON c.id = e.customer_id"
      " JOIN data_sources d ON d.id = e.data_source_id WHERE ";
  if (customer_key != 0) {
    absl::StrAppend(&sql, "e.customer_id = $5");
    if (source_key != 0) absl::StrAppend(&sql, " AND e.data_source_id = $6");
  } else {
    absl::StrAppend(&sql, "e.data_source_id = $5");
  }
  absl::StrAppend(
      &sql,
      " AND e.occurred_at <= $1 AND (e.occurred_at, e.id) > ($2, $3)"
      " ORDER BY e.occurred_at, e.id LIMIT $4");
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  stmt.BindTime(1, filter.as_of);
  stmt.BindInt64(2, after.first);
  stmt.BindInt64(3, after.second);
  stmt.BindInt64(4, int64_t{page.page_size} + 1);
  if (customer_key != 0) {
    stmt.BindInt64(5, customer_key);
    if (source_key != 0) stmt.BindInt64(6, source_key);
  } else {
    stmt.BindInt64(5, source_key);
  }
  Page<SubscriptionEvent> result;
  PageKey last;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(result.items.size()) == page.page_size) {
      result.next_page_token = EncodePageToken(last, fingerprint);
      break;
    }
    SubscriptionEvent event;
    event.uuid = stmt.ColumnText(1);
    RECURRENT_ASSIGN_OR_RETURN(event.type,
                               EventTypeFromCode(stmt.ColumnInt64(2)));
    event.occurred_at = stmt.ColumnTime(3);
    event.subscription.uuid = stmt.ColumnText(4);
    event.subscription.customer_uuid = stmt.ColumnText(5);
    event.subscription.data_source_uuid = stmt.ColumnText(6);
    event.subscription.external_id = stmt.ColumnText(7);
    RECURRENT_ASSIGN_OR_RETURN(event.status_after,
                               SubscriptionStatusFromCode(stmt.ColumnInt64(8)));
    last = PageKey{stmt.ColumnInt64(3), stmt.ColumnInt64(0)};
    result.items.push_back(std::move(event));
  }
  return result;
}

}  // namespace recurrent::persistence::postgres
