#include "persistence/sqlite_mrr.h"

#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/filter_keys.h"
#include "persistence/mrr_sums.h"
#include "persistence/page_token.h"
#include "persistence/row_codes.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"

namespace recurrent::persistence::sqlite {
namespace {

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();

// Source keys by uuid, looked up once per write.
class SourceKeys {
 public:
  explicit SourceKeys(Connection& db) : db_(db) {}
  absl::StatusOr<int64_t> Get(const std::string& uuid) {
    auto it = keys_.find(uuid);
    if (it != keys_.end()) return it->second;
    RECURRENT_ASSIGN_OR_RETURN(const int64_t key, FindDataSourceKey(db_, uuid));
    keys_.emplace(uuid, key);
    return key;
  }

 private:
  Connection& db_;
  absl::flat_hash_map<std::string, int64_t> keys_;
};

absl::StatusOr<StoredMrrRows<engine::MrrMovement>> LoadMovements(
    Connection& db, int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare(absl::StrCat(kStoredMrrMovementsSql,
                                              " WHERE m.customer_id = ?",
                                              " ORDER BY m.id")));
  stmt.BindInt64(1, customer_key);
  return ReadStoredMovements(stmt);
}

absl::StatusOr<StoredMrrRows<MrrDelta>> LoadDeltas(Connection& db,
                                                   int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare(absl::StrCat(kStoredMrrDeltasSql,
                                              " WHERE x.customer_id = ?",
                                              " ORDER BY x.id")));
  stmt.BindInt64(1, customer_key);
  return ReadStoredDeltas(stmt);
}

// Deletes the customer's rows of `table` from the `keep`-th stored one on.
template <typename Row>
absl::Status DeleteTail(Connection& db, const char* table,
                        int64_t customer_key, const StoredMrrRows<Row>& stored,
                        size_t keep) {
  if (keep == stored.ids.size()) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(absl::StrCat("DELETE FROM ", table,
                              " WHERE customer_id = ? AND id >= ?")));
  stmt.BindInt64(1, customer_key);
  stmt.BindInt64(2, stored.ids[keep]);
  return stmt.Run();
}

}  // namespace

absl::Status WriteMrr(Connection& db, int64_t customer_key,
                      const MrrWrite& write) {
  RECURRENT_ASSIGN_OR_RETURN(const StoredMrrRows<engine::MrrMovement> movements,
                             LoadMovements(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(const StoredMrrRows<MrrDelta> deltas,
                             LoadDeltas(db, customer_key));
  const size_t kept_movements = CommonPrefix(movements.rows, write.movements);
  const size_t kept_deltas = CommonPrefix(deltas.rows, write.deltas);
  RECURRENT_RETURN_IF_ERROR(DeleteTail(db, "mrr_movements", customer_key,
                                       movements, kept_movements));
  RECURRENT_RETURN_IF_ERROR(
      DeleteTail(db, "mrr_deltas", customer_key, deltas, kept_deltas));
  SourceKeys sources(db);
  if (kept_movements < write.movements.size()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO mrr_movements (customer_id, data_source_id,"
                   " currency, occurred_at, type, mrr_change, mrr_after,"
                   " month) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = kept_movements; i < write.movements.size(); ++i) {
      const engine::MrrMovement& m = write.movements[i];
      RECURRENT_ASSIGN_OR_RETURN(const int64_t source,
                                 sources.Get(m.data_source_uuid));
      stmt.Reset();
      stmt.BindInt64(1, customer_key);
      stmt.BindInt64(2, source);
      stmt.BindText(3, m.currency);
      stmt.BindTime(4, m.occurred_at);
      stmt.BindInt64(5, MrrMovementTypeCode(m.type));
      stmt.BindInt64(6, m.mrr_change_in_cents);
      stmt.BindInt64(7, m.mrr_after_in_cents);
      stmt.BindInt64(8, MrrMonthOf(absl::ToUnixMicros(m.occurred_at)));
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (kept_deltas < write.deltas.size()) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO mrr_deltas (customer_id, data_source_id,"
                   " in_total, at, currency, past_due_mrr, mrr_active_customers,"
                   " mrr_past_due_customers, lead_customers,"
                   " active_customers, past_due_customers,"
                   " cancelled_customers, month)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = kept_deltas; i < write.deltas.size(); ++i) {
      const MrrDelta& d = write.deltas[i];
      stmt.Reset();
      stmt.BindInt64(1, customer_key);
      if (d.data_source_uuid.empty()) {
        stmt.BindNull(2);
      } else {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t source,
                                   sources.Get(d.data_source_uuid));
        stmt.BindInt64(2, source);
      }
      stmt.BindInt64(3, d.in_total ? 1 : 0);
      stmt.BindTime(4, d.at);
      stmt.BindText(5, d.currency);
      stmt.BindInt64(6, d.past_due_mrr_in_cents);
      stmt.BindInt64(7, d.mrr_active_customers);
      stmt.BindInt64(8, d.mrr_past_due_customers);
      stmt.BindInt64(9, d.lead_customers);
      stmt.BindInt64(10, d.active_customers);
      stmt.BindInt64(11, d.past_due_customers);
      stmt.BindInt64(12, d.cancelled_customers);
      stmt.BindInt64(13, MrrMonthOf(absl::ToUnixMicros(d.at)));
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("UPDATE customers SET mrr_digest = ? WHERE id = ?"));
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
  // ?1 customer, ?2 source, ?3/?4 window, ?5/?6 cursor, ?7 limit.
  std::string sql =
      "SELECT m.id, m.occurred_at, c.uuid, d.uuid, m.currency, m.type,"
      " m.mrr_change, m.mrr_after FROM mrr_movements m"
      " JOIN customers c ON c.id = m.customer_id"
      " JOIN data_sources d ON d.id = m.data_source_id WHERE ";
  if (customer_key != 0) {
    absl::StrAppend(&sql, "m.customer_id = ?1 AND ");
    if (source_key != 0) absl::StrAppend(&sql, "+m.data_source_id = ?2 AND ");
  } else if (source_key != 0) {
    absl::StrAppend(&sql, "m.data_source_id = ?2 AND ");
  }
  absl::StrAppend(&sql,
                  "m.occurred_at >= ?3 AND m.occurred_at < ?4"
                  " AND (m.occurred_at, m.id) > (?5, ?6)"
                  " ORDER BY m.occurred_at, m.id LIMIT ?7");
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  stmt.BindInt64(1, customer_key);
  stmt.BindInt64(2, source_key);
  if (filter.start.has_value()) {
    stmt.BindTime(3, *filter.start);
  } else {
    stmt.BindInt64(3, kMrrMinMicros);
  }
  if (filter.end.has_value()) {
    stmt.BindTime(4, *filter.end);
  } else {
    stmt.BindInt64(4, kMaxMicros);
  }
  stmt.BindInt64(5, after.first);
  stmt.BindInt64(6, after.second);
  stmt.BindInt64(7, int64_t{page.page_size} + 1);
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
  // ?1 is the source, ?2 and ?3 the range (MakeMrrSumSql).
  const bool one_source = source_key != 0;
  const MrrSumSql sql = MakeMrrSumSql(one_source, "?1", "?2", "?3", "TOTAL");
  const auto bind = [&](Statement& stmt, int64_t lo, int64_t hi) {
    stmt.Reset();
    stmt.BindInt64(1, source_key);
    stmt.BindInt64(2, lo);
    stmt.BindInt64(3, hi);
  };
  return SumMrrWith(db, sql, bounds, bind);
}

absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> LoadCustomersMrrAt(
    Connection& db, absl::Span<const std::string> customer_uuids,
    absl::Time t, const absl::flat_hash_map<std::string, int64_t>& known_keys) {
  // The latest movement at or before t of each (source, currency) holds the
  // MRR after it (mrr_movements_by_customer, newest first). When every
  // customer's key is known (the page ListCustomers just read), one
  // statement reads them all, without looking each uuid up again (a random
  // page of the uuid index per customer).
  std::vector<int64_t> keys;
  keys.reserve(customer_uuids.size());
  for (const std::string& uuid : customer_uuids) {
    auto known = known_keys.find(uuid);
    if (known == known_keys.end()) break;
    keys.push_back(known->second);
  }
  const bool all_known = keys.size() == customer_uuids.size();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare(all_known
                     ? "SELECT j.key, m.data_source_id, m.currency, m.mrr_after"
                       " FROM json_each(?1) j JOIN mrr_movements m"
                       " ON m.customer_id = j.value AND m.occurred_at <= ?2"
                       " ORDER BY j.key, m.occurred_at DESC"
                     : "SELECT 0, m.data_source_id, m.currency, m.mrr_after"
                       " FROM mrr_movements m"
                       " WHERE m.customer_id = (SELECT id FROM customers"
                       " WHERE uuid = ?1) AND m.occurred_at <= ?2"
                       " ORDER BY m.occurred_at DESC"));
  std::vector<std::vector<engine::MrrAmount>> out(customer_uuids.size());
  absl::flat_hash_map<std::pair<int64_t, std::string>, bool> seen;
  // Reads the rows of the customers from `first` on (one per run when not
  // all_known) into `out`.
  const auto read = [&](size_t first) -> absl::Status {
    std::optional<CustomerMrrBuilder> builder;
    size_t current = first;
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      const size_t index = row ? first + static_cast<size_t>(
                                             stmt.ColumnInt64(0))
                               : customer_uuids.size();
      if (builder.has_value() && (!row || index != current)) {
        out[current] = builder->Take();
        builder.reset();
      }
      if (!row) return absl::OkStatus();
      if (!builder.has_value()) {
        builder.emplace();
        seen.clear();
        current = index;
      }
      std::string currency = stmt.ColumnText(2);
      if (!seen.try_emplace({stmt.ColumnInt64(1), currency}, true).second) {
        continue;
      }
      builder->Add(currency, stmt.ColumnInt64(3));
    }
  };
  if (all_known) {
    stmt.BindText(1, KeysAsJson(keys));
    stmt.BindTime(2, t);
    RECURRENT_RETURN_IF_ERROR(read(0));
  } else {
    for (size_t i = 0; i < customer_uuids.size(); ++i) {
      stmt.Reset();
      stmt.BindText(1, customer_uuids[i]);
      stmt.BindTime(2, t);
      RECURRENT_RETURN_IF_ERROR(read(i));
    }
  }
  return out;
}

}  // namespace recurrent::persistence::sqlite
