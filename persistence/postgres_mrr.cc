#include "persistence/postgres_mrr.h"

#include <limits>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/filter_keys.h"
#include "persistence/mrr_sums.h"
#include "persistence/page_token.h"
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {
namespace {

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();

// Deletes the customer's rows of `table` from the `keep`-th stored one on.
template <typename Row>
absl::Status DeleteTail(Connection& db, const char* table,
                        int64_t customer_key, const StoredMrrRows<Row>& stored,
                        size_t keep) {
  if (keep == stored.ids.size()) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(absl::StrCat("DELETE FROM ", table,
                              " WHERE customer_id = $1 AND id >= $2")));
  stmt.BindInt64(1, customer_key);
  stmt.BindInt64(2, stored.ids[keep]);
  return stmt.Run();
}

}  // namespace

absl::Status ApplyPendingRollups(Connection& db) {
  // One prepared statement (one round trip, planned once per connection).
  // Its two upserts may take their rows in either order; only the delta
  // rollups' all-sources rows are shared by writers that do not already
  // hold the same source locks, and those it takes in key order.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(
          "WITH movements AS ("
          "  DELETE FROM mrr_movement_rollups_pending RETURNING *),"
          " moved AS ("
          "  INSERT INTO mrr_movement_rollups AS r"
          "  (data_source_id, month, currency, type, mrr_change)"
          "  SELECT data_source_id, month, currency, type, SUM(mrr_change)"
          "  FROM movements GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
          "  ON CONFLICT (data_source_id, month, currency, type)"
          "  DO UPDATE SET mrr_change = r.mrr_change + EXCLUDED.mrr_change"
          "  RETURNING 1),"
          " deltas AS (DELETE FROM mrr_delta_rollups_pending RETURNING *)"
          " INSERT INTO mrr_delta_rollups AS r"
          " (source_key, in_total, month, currency, past_due_mrr,"
          " mrr_active_customers, mrr_past_due_customers, lead_customers,"
          " active_customers, past_due_customers, cancelled_customers)"
          " SELECT source_key, in_total, month, currency, SUM(past_due_mrr),"
          " SUM(mrr_active_customers), SUM(mrr_past_due_customers),"
          " SUM(lead_customers), SUM(active_customers),"
          " SUM(past_due_customers), SUM(cancelled_customers)"
          " FROM deltas GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
          " ON CONFLICT (source_key, in_total, month, currency) DO UPDATE SET"
          " past_due_mrr = r.past_due_mrr + EXCLUDED.past_due_mrr,"
          " mrr_active_customers ="
          " r.mrr_active_customers + EXCLUDED.mrr_active_customers,"
          " mrr_past_due_customers ="
          " r.mrr_past_due_customers + EXCLUDED.mrr_past_due_customers,"
          " lead_customers = r.lead_customers + EXCLUDED.lead_customers,"
          " active_customers = r.active_customers + EXCLUDED.active_customers,"
          " past_due_customers ="
          " r.past_due_customers + EXCLUDED.past_due_customers,"
          " cancelled_customers ="
          " r.cancelled_customers + EXCLUDED.cancelled_customers"));
  return stmt.Run();
}

absl::Status WriteMrr(Connection& db, int64_t customer_key,
                      const MrrWrite& write) {
  // The leading rows the new ones repeat stay (mrr_sums.h, CommonPrefix).
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stored_movements,
      db.Prepare(absl::StrCat(kStoredMrrMovementsSql,
                              " WHERE m.customer_id = $1 ORDER BY m.id")));
  stored_movements.BindInt64(1, customer_key);
  RECURRENT_ASSIGN_OR_RETURN(const StoredMrrRows<engine::MrrMovement> movements,
                             ReadStoredMovements(stored_movements));
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stored_deltas,
      db.Prepare(absl::StrCat(kStoredMrrDeltasSql,
                              " WHERE x.customer_id = $1 ORDER BY x.id")));
  stored_deltas.BindInt64(1, customer_key);
  RECURRENT_ASSIGN_OR_RETURN(const StoredMrrRows<MrrDelta> deltas,
                             ReadStoredDeltas(stored_deltas));
  const size_t kept_movements = CommonPrefix(movements.rows, write.movements);
  const size_t kept_deltas = CommonPrefix(deltas.rows, write.deltas);
  RECURRENT_RETURN_IF_ERROR(DeleteTail(db, "mrr_movements", customer_key,
                                       movements, kept_movements));
  RECURRENT_RETURN_IF_ERROR(
      DeleteTail(db, "mrr_deltas", customer_key, deltas, kept_deltas));
  // One statement per table, whatever the number of rows; sources are
  // named by uuid and joined to their keys.
  if (kept_movements < write.movements.size()) {
    const size_t n = write.movements.size() - kept_movements;
    std::vector<std::string> sources, currencies;
    std::vector<int64_t> times, months, types, changes, afters;
    sources.reserve(n);
    currencies.reserve(n);
    for (std::vector<int64_t>* column :
         {&times, &months, &types, &changes, &afters}) {
      column->reserve(n);
    }
    for (size_t i = kept_movements; i < write.movements.size(); ++i) {
      const engine::MrrMovement& m = write.movements[i];
      sources.push_back(m.data_source_uuid);
      currencies.push_back(m.currency);
      times.push_back(absl::ToUnixMicros(m.occurred_at));
      months.push_back(MrrMonthOf(times.back()));
      types.push_back(MrrMovementTypeCode(m.type));
      changes.push_back(m.mrr_change_in_cents);
      afters.push_back(m.mrr_after_in_cents);
    }
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO mrr_movements (customer_id, data_source_id,"
                   " currency, occurred_at, type, mrr_change, mrr_after,"
                   " month)"
                   " SELECT $1::bigint, d.id, r.currency, r.occurred_at,"
                   " r.type, r.mrr_change, r.mrr_after, r.month"
                   " FROM unnest($2::text[], $3::text[], $4::bigint[],"
                   " $5::integer[], $6::bigint[], $7::bigint[], $8::bigint[])"
                   " WITH ORDINALITY AS r(source, currency, occurred_at,"
                   " type, mrr_change, mrr_after, month, ord)"
                   " JOIN data_sources d ON d.uuid = r.source"
                   " ORDER BY r.ord"));
    stmt.BindInt64(1, customer_key);
    stmt.BindTextArray(2, sources);
    stmt.BindTextArray(3, currencies);
    stmt.BindInt64Array(4, times);
    stmt.BindInt64Array(5, types);
    stmt.BindInt64Array(6, changes);
    stmt.BindInt64Array(7, afters);
    stmt.BindInt64Array(8, months);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  if (kept_deltas < write.deltas.size()) {
    const size_t n = write.deltas.size() - kept_deltas;
    std::vector<std::string> sources, currencies;
    std::vector<int64_t> in_total, times, months, past_due_mrr, mrr_active,
        mrr_past_due, lead, active, past_due, cancelled;
    sources.reserve(n);
    currencies.reserve(n);
    for (size_t i = kept_deltas; i < write.deltas.size(); ++i) {
      const MrrDelta& d = write.deltas[i];
      sources.push_back(d.data_source_uuid);
      currencies.push_back(d.currency);
      in_total.push_back(d.in_total ? 1 : 0);
      times.push_back(absl::ToUnixMicros(d.at));
      months.push_back(MrrMonthOf(times.back()));
      past_due_mrr.push_back(d.past_due_mrr_in_cents);
      mrr_active.push_back(d.mrr_active_customers);
      mrr_past_due.push_back(d.mrr_past_due_customers);
      lead.push_back(d.lead_customers);
      active.push_back(d.active_customers);
      past_due.push_back(d.past_due_customers);
      cancelled.push_back(d.cancelled_customers);
    }
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO mrr_deltas (customer_id, data_source_id,"
                   " in_total, at, currency, past_due_mrr, mrr_active_customers,"
                   " mrr_past_due_customers, lead_customers,"
                   " active_customers, past_due_customers,"
                   " cancelled_customers, month)"
                   " SELECT $1::bigint, d.id, r.in_total, r.at, r.currency,"
                   " r.past_due_mrr, r.mrr_active, r.mrr_past_due, r.lead,"
                   " r.active, r.past_due, r.cancelled, r.month"
                   " FROM unnest($2::text[], $3::integer[], $4::bigint[],"
                   " $5::text[], $6::bigint[], $7::integer[], $8::integer[],"
                   " $9::integer[], $10::integer[], $11::integer[],"
                   " $12::integer[], $13::bigint[])"
                   " WITH ORDINALITY AS r(source, in_total, at, currency,"
                   " past_due_mrr, mrr_active, mrr_past_due, lead, active,"
                   " past_due, cancelled, month, ord)"
                   " LEFT JOIN data_sources d ON d.uuid = r.source"
                   " ORDER BY r.ord"));
    stmt.BindInt64(1, customer_key);
    stmt.BindTextArray(2, sources);
    stmt.BindInt64Array(3, in_total);
    stmt.BindInt64Array(4, times);
    stmt.BindTextArray(5, currencies);
    stmt.BindInt64Array(6, past_due_mrr);
    stmt.BindInt64Array(7, mrr_active);
    stmt.BindInt64Array(8, mrr_past_due);
    stmt.BindInt64Array(9, lead);
    stmt.BindInt64Array(10, active);
    stmt.BindInt64Array(11, past_due);
    stmt.BindInt64Array(12, cancelled);
    stmt.BindInt64Array(13, months);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("UPDATE customers SET mrr_digest = $1 WHERE id = $2"));
  stmt.BindInt64(1, write.digest);
  stmt.BindInt64(2, customer_key);
  return stmt.Run();
}

absl::StatusOr<Page<MrrMovementRow>> LoadMrrMovementPage(
    Connection& db, const MrrMovementFilter& filter, const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  // The time window is not part of the query's identity (as ListEvents'
  // as_of): a page token positions in (occurred_at, id) order.
  const uint64_t fingerprint = QueryFingerprint(
      "mrr_movements", {filter.customer_uuid, filter.data_source_uuid});
  PageKey after{kMrrMinMicros, 0};
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        after, DecodePairPageToken(page.page_token, fingerprint));
  }
  RECURRENT_ASSIGN_OR_RETURN(
      const FilterKeys keys,
      FindFilterKeys(db, filter.customer_uuid, filter.data_source_uuid));
  const int64_t customer_key = keys.customer;
  const int64_t source_key = keys.source;
  // $1/$2 window, $3/$4 cursor, $5 limit, then the keys filtered on (every
  // parameter up to the highest must be used): $6 customer and $7 source,
  // $6 customer, or $6 source.
  std::string sql =
      "SELECT m.id, m.occurred_at, c.uuid, d.uuid, m.currency, m.type,"
      " m.mrr_change, m.mrr_after FROM mrr_movements m"
      " JOIN customers c ON c.id = m.customer_id"
      " JOIN data_sources d ON d.id = m.data_source_id WHERE ";
  if (customer_key != 0) {
    absl::StrAppend(&sql, "m.customer_id = $6 AND ");
    if (source_key != 0) absl::StrAppend(&sql, "m.data_source_id = $7 AND ");
  } else if (source_key != 0) {
    absl::StrAppend(&sql, "m.data_source_id = $6 AND ");
  }
  absl::StrAppend(&sql,
                  "m.occurred_at >= $1 AND m.occurred_at < $2"
                  " AND (m.occurred_at, m.id) > ($3, $4)"
                  " ORDER BY m.occurred_at, m.id LIMIT $5");
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  if (filter.start.has_value()) {
    stmt.BindTime(1, *filter.start);
  } else {
    stmt.BindInt64(1, kMrrMinMicros);
  }
  if (filter.end.has_value()) {
    stmt.BindTime(2, *filter.end);
  } else {
    stmt.BindInt64(2, kMaxMicros);
  }
  stmt.BindInt64(3, after.first);
  stmt.BindInt64(4, after.second);
  stmt.BindInt64(5, int64_t{page.page_size} + 1);
  if (customer_key != 0) {
    stmt.BindInt64(6, customer_key);
    if (source_key != 0) stmt.BindInt64(7, source_key);
  } else if (source_key != 0) {
    stmt.BindInt64(6, source_key);
  }
  Page<MrrMovementRow> result;
  PageKey last;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(result.items.size()) == page.page_size) {
      result.next_page_token = EncodePageToken(last, fingerprint);
      break;
    }
    MrrMovementRow item;
    engine::MrrMovement& m = item.movement;
    m.occurred_at = stmt.ColumnTime(1);
    item.customer_uuid = stmt.ColumnText(2);
    m.data_source_uuid = stmt.ColumnText(3);
    m.currency = stmt.ColumnText(4);
    RECURRENT_ASSIGN_OR_RETURN(m.type,
                               MrrMovementTypeFromCode(stmt.ColumnInt64(5)));
    m.mrr_change_in_cents = stmt.ColumnInt64(6);
    m.mrr_after_in_cents = stmt.ColumnInt64(7);
    last = PageKey{stmt.ColumnInt64(1), stmt.ColumnInt64(0)};
    result.items.push_back(std::move(item));
  }
  return result;
}

absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrrRows(
    Connection& db, absl::string_view data_source_uuid,
    absl::Span<const absl::Time> bounds) {
  int64_t source_key = 0;
  if (!data_source_uuid.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(source_key,
                               FindDataSourceKey(db, data_source_uuid));
  }
  // $1 and $2 are the range, $3 the source (MakeMrrSumSql).
  const bool one_source = source_key != 0;
  const MrrSumSql sql = MakeMrrSumSql(one_source, "$3", "$1", "$2", "SUM");
  const auto bind = [&](Statement& stmt, int64_t lo, int64_t hi) {
    stmt.Reset();
    stmt.BindInt64(1, lo);
    stmt.BindInt64(2, hi);
    if (one_source) stmt.BindInt64(3, source_key);
  };
  return SumMrrWith(db, sql, bounds, bind);
}

absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> LoadCustomersMrrAt(
    Connection& db, absl::Span<const std::string> customer_uuids,
    absl::Time t) {
  // The latest movement at or before t of each (customer, source, currency)
  // holds the MRR after it (mrr_movements_by_customer).
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT DISTINCT ON (m.customer_id, m.data_source_id,"
                 " m.currency) c.uuid, m.currency, m.mrr_after"
                 " FROM mrr_movements m JOIN customers c"
                 " ON c.id = m.customer_id"
                 " WHERE c.uuid = ANY($1::text[]) AND m.occurred_at <= $2"
                 " ORDER BY m.customer_id, m.data_source_id, m.currency,"
                 " m.occurred_at DESC"));
  stmt.BindTextArray(1, std::vector<std::string>(customer_uuids.begin(),
                                                 customer_uuids.end()));
  stmt.BindTime(2, t);
  absl::flat_hash_map<std::string, CustomerMrrBuilder> by_customer;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    by_customer[stmt.ColumnText(0)].Add(stmt.ColumnText(1),
                                        stmt.ColumnInt64(2));
  }
  std::vector<std::vector<engine::MrrAmount>> out;
  out.reserve(customer_uuids.size());
  for (const std::string& uuid : customer_uuids) {
    auto it = by_customer.find(uuid);
    out.push_back(it == by_customer.end() ? std::vector<engine::MrrAmount>()
                                          : it->second.Take());
  }
  return out;
}

}  // namespace recurrent::persistence::postgres
