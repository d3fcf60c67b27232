// Helpers shared by the backends' MRR rows (persistence/records.h, MrrWrite
// and MrrSums): both backends bucket, split and fold them the same way.
//
// Monthly rollups. Each stored MRR row (mrr_movements, mrr_deltas) carries
// the UTC month of its instant, and each backend keeps, maintained by
// triggers in the same transaction as the rows, their sums per month and
// key (the rollups: mrr_movement_rollups, mrr_delta_rollups). A sum over
// [lo, hi) then reads whole months from the rollups and only the partial
// months at its ends from the rows (PlanMrrSum), so GetMrr and a monthly
// GetMrrSeries read a few rows per month of history instead of every row.
#ifndef RECURRENT_PERSISTENCE_MRR_SUMS_H_
#define RECURRENT_PERSISTENCE_MRR_SUMS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/saturating.h"
#include "common/status_macros.h"
#include "engine/mrr_types.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence {

// The stored instant of the initial state (absl::InfinitePast()).
inline constexpr int64_t kMrrMinMicros = std::numeric_limits<int64_t>::min();

// The stored `month` of a row at `at_micros` (Unix microseconds): the first
// microsecond of its UTC month; the initial state's row keeps
// kMrrMinMicros, a month of its own before all others.
inline int64_t MrrMonthOf(int64_t at_micros) {
  if (at_micros == kMrrMinMicros) return kMrrMinMicros;
  const absl::TimeZone utc = absl::UTCTimeZone();
  return absl::ToUnixMicros(absl::FromCivil(
      absl::ToCivilMonth(absl::FromUnixMicros(at_micros), utc), utc));
}

// How a backend sums its MRR rows over [lo, hi) (Unix microseconds, lo <
// hi; lo may be kMrrMinMicros): the rows with `at` in each of `rows`
// (half-open, non-empty, at most two: the partial months at the ends) plus
// the rollups of the months in [months_lo, months_hi) (none if months_lo >=
// months_hi). Every row is counted exactly once, because a row's month is
// MrrMonthOf(its at).
struct MrrSumPlan {
  std::vector<std::pair<int64_t, int64_t>> rows;
  int64_t months_lo = 0;
  int64_t months_hi = 0;
};
inline MrrSumPlan PlanMrrSum(int64_t lo, int64_t hi) {
  MrrSumPlan plan;
  const absl::TimeZone utc = absl::UTCTimeZone();
  // The first month boundary at or after lo, the last at or before hi.
  int64_t first = MrrMonthOf(lo);
  if (first != lo) {
    first = absl::ToUnixMicros(absl::FromCivil(
        absl::ToCivilMonth(absl::FromUnixMicros(lo), utc) + 1, utc));
  }
  const int64_t last = MrrMonthOf(hi);
  if (first > last) {  // within one month
    plan.rows.emplace_back(lo, hi);
    return plan;
  }
  if (lo < first) plan.rows.emplace_back(lo, first);
  plan.months_lo = first;
  plan.months_hi = last;
  if (last < hi) plan.rows.emplace_back(last, hi);
  return plan;
}

// The stored instant `micros` as an absl::Time (kMrrMinMicros: the initial
// state's absl::InfinitePast()).
inline absl::Time MrrTimeFromMicros(int64_t micros) {
  return micros == kMrrMinMicros ? absl::InfinitePast()
                                 : absl::FromUnixMicros(micros);
}

// Writing a customer's new MRR rows (MrrWrite) touches few rows: a backend
// keeps each table's rows in the order they were written (ascending ids),
// keeps the leading rows the new ones repeat, deletes the rest and inserts
// the new rows after them. A new fact usually changes only the tail (a new
// month), so the write is a few rows instead of all of them, and the rows
// are in the order a whole rewrite would leave. Returns the number of
// leading rows `stored` and `planned` have in common.
template <typename Row>
size_t CommonPrefix(const std::vector<Row>& stored,
                    const std::vector<Row>& planned) {
  size_t n = 0;
  while (n < stored.size() && n < planned.size() &&
         stored[n] == planned[n]) {
    ++n;
  }
  return n;
}

// A customer's stored rows of one table, in the order they were written,
// with their ids.
template <typename Row>
struct StoredMrrRows {
  std::vector<int64_t> ids;
  std::vector<Row> rows;
};

// The stored rows' columns, as ReadStoredMovements and ReadStoredDeltas
// read them (backends add the WHERE and ORDER BY x.id clauses).
inline constexpr char kStoredMrrMovementsSql[] =
    "SELECT m.id, d.uuid, m.currency, m.occurred_at, m.type, m.mrr_change,"
    " m.mrr_after FROM mrr_movements m"
    " JOIN data_sources d ON d.id = m.data_source_id";
inline constexpr char kStoredMrrDeltasSql[] =
    "SELECT x.id, d.uuid, x.in_total, x.at, x.currency, x.past_due_mrr,"
    " x.mrr_active_customers, x.mrr_past_due_customers, x.lead_customers,"
    " x.active_customers, x.past_due_customers, x.cancelled_customers"
    " FROM mrr_deltas x LEFT JOIN data_sources d ON d.id = x.data_source_id";

// Steps `stmt` (a backend's statement over kStoredMrrMovementsSql) to its
// end.
template <typename Statement>
absl::StatusOr<StoredMrrRows<engine::MrrMovement>> ReadStoredMovements(
    Statement& stmt) {
  StoredMrrRows<engine::MrrMovement> stored;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    stored.ids.push_back(stmt.ColumnInt64(0));
    engine::MrrMovement& m = stored.rows.emplace_back();
    m.data_source_uuid = stmt.ColumnText(1);
    m.currency = stmt.ColumnText(2);
    m.occurred_at = MrrTimeFromMicros(stmt.ColumnInt64(3));
    absl::StatusOr<engine::MrrMovementType> type =
        MrrMovementTypeFromCode(stmt.ColumnInt64(4));
    if (!type.ok()) return type.status();
    m.type = *type;
    m.mrr_change_in_cents = stmt.ColumnInt64(5);
    m.mrr_after_in_cents = stmt.ColumnInt64(6);
  }
  return stored;
}

// Steps `stmt` (over kStoredMrrDeltasSql) to its end.
template <typename Statement>
absl::StatusOr<StoredMrrRows<MrrDelta>> ReadStoredDeltas(Statement& stmt) {
  StoredMrrRows<MrrDelta> stored;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    stored.ids.push_back(stmt.ColumnInt64(0));
    MrrDelta& d = stored.rows.emplace_back();
    d.data_source_uuid = stmt.ColumnText(1);  // NULL (all sources) reads ""
    d.in_total = stmt.ColumnInt64(2) != 0;
    d.at = MrrTimeFromMicros(stmt.ColumnInt64(3));
    d.currency = stmt.ColumnText(4);
    d.past_due_mrr_in_cents = stmt.ColumnInt64(5);
    d.mrr_active_customers = stmt.ColumnInt64(6);
    d.mrr_past_due_customers = stmt.ColumnInt64(7);
    d.lead_customers = stmt.ColumnInt64(8);
    d.active_customers = stmt.ColumnInt64(9);
    d.past_due_customers = stmt.ColumnInt64(10);
    d.cancelled_customers = stmt.ColumnInt64(11);
  }
  return stored;
}

// MrrSums per currency, built up from grouped rows.
class MrrSumsBuilder {
 public:
  MrrSums& For(const std::string& currency) {
    MrrSums& sums = by_currency_[currency];
    sums.currency = currency;
    return sums;
  }
  // Sorted by currency; currencies whose sums are all 0 left out (so rows
  // and rollups that cancel out, e.g. after a deletion, read alike).
  std::vector<MrrSums> Take() {
    std::vector<MrrSums> out;
    out.reserve(by_currency_.size());
    for (auto& [currency, sums] : by_currency_) {
      if (!IsZero(sums)) out.push_back(std::move(sums));
    }
    by_currency_.clear();
    return out;
  }

 private:
  static bool IsZero(const MrrSums& s) {
    for (const int64_t change : s.movements_in_cents) {
      if (change != 0) return false;
    }
    return s.past_due_mrr_in_cents == 0 && s.mrr_active_customers == 0 &&
           s.mrr_past_due_customers == 0 && s.lead_customers == 0 &&
           s.active_customers == 0 && s.past_due_customers == 0 &&
           s.cancelled_customers == 0;
  }

  std::map<std::string, MrrSums> by_currency_;
};

// Folds the latest `after` of each (source, currency) of one customer into
// amounts per currency: sorted, zeros left out.
class CustomerMrrBuilder {
 public:
  void Add(const std::string& currency, int64_t mrr_in_cents) {
    int64_t& sum = by_currency_[currency];
    sum = common::SaturatingAdd(sum, mrr_in_cents);
  }
  std::vector<engine::MrrAmount> Take() {
    std::vector<engine::MrrAmount> out;
    for (const auto& [currency, cents] : by_currency_) {
      if (cents != 0) out.push_back(engine::MrrAmount{currency, cents});
    }
    by_currency_.clear();
    return out;
  }

 private:
  std::map<std::string, int64_t> by_currency_;
};

// Adds the rows of `stmt` (a backend's statement whose columns are:
// currency, movement type code, sum of mrr_change) to `builder`.
template <typename Statement>
absl::Status AddMovementSums(Statement& stmt, MrrSumsBuilder& builder) {
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    absl::StatusOr<engine::MrrMovementType> type =
        MrrMovementTypeFromCode(stmt.ColumnInt64(1));
    if (!type.ok()) return type.status();
    int64_t& sum = builder.For(stmt.ColumnText(0))
                       .movements_in_cents[static_cast<int>(*type)];
    sum = common::SaturatingAdd(sum, stmt.ColumnInt64(2));
  }
}

// Adds the rows of `stmt` (columns: currency, then the sums of the seven
// delta columns in MrrSums' order) to `builder`.
template <typename Statement>
absl::Status AddDeltaSums(Statement& stmt, MrrSumsBuilder& builder) {
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    MrrSums& sums = builder.For(stmt.ColumnText(0));
    sums.past_due_mrr_in_cents =
        common::SaturatingAdd(sums.past_due_mrr_in_cents, stmt.ColumnInt64(1));
    sums.mrr_active_customers += stmt.ColumnInt64(2);
    sums.mrr_past_due_customers += stmt.ColumnInt64(3);
    sums.lead_customers += stmt.ColumnInt64(4);
    sums.active_customers += stmt.ColumnInt64(5);
    sums.past_due_customers += stmt.ColumnInt64(6);
    sums.cancelled_customers += stmt.ColumnInt64(7);
  }
}

// The SQL of the four sums ReadTransaction::SumMrr reads, the same for both
// backends but for their placeholders: `source` names the source's key, `lo`
// and `hi` the range [lo, hi) (instants for the rows, months for the
// rollups). Columns as AddMovementSums and AddDeltaSums read them. With
// `one_source` false they sum over all sources (`source` is not used): the
// rows through the per-source covering indexes, one range per source
// (schema version 8: no covering index in time order is kept for these
// sums alone), and the deltas without a source (a customer of several
// sources, over all of them) by a statement of their own.
struct MrrSumSql {
  std::string movement_rows;
  std::string movement_months;
  std::string delta_rows;
  std::string sourceless_delta_rows;  // over all sources only, else empty
  std::string delta_months;
};
// `sum` is the aggregate that adds MRR without failing on overflow:
// "SUM" on PostgreSQL (BIGINT sums to NUMERIC), "TOTAL" on SQLite (whose
// SUM fails with "integer overflow" when a sum of integers passes the int64
// range; TOTAL adds in floating point, exact below 2^53 cents, and the
// reader clamps). Customer counts are summed with SUM.
inline MrrSumSql MakeMrrSumSql(bool one_source, absl::string_view source,
                               absl::string_view lo, absl::string_view hi,
                               absl::string_view sum) {
  const std::string delta_sums =
      absl::StrCat(sum,
                   "(past_due_mrr), SUM(mrr_active_customers),"
                   " SUM(mrr_past_due_customers), SUM(lead_customers),"
                   " SUM(active_customers), SUM(past_due_customers),"
                   " SUM(cancelled_customers)");
  constexpr absl::string_view kEverySource =
      "data_source_id IN (SELECT id FROM data_sources)";
  const std::string deltas_in_range =
      absl::StrCat(" AND at >= ", lo, " AND at < ", hi);
  const std::string months_in_range =
      absl::StrCat("month >= ", lo, " AND month < ", hi);
  MrrSumSql sql;
  sql.movement_rows = absl::StrCat(
      "SELECT currency, type, ", sum, "(mrr_change) FROM mrr_movements WHERE ",
      one_source ? absl::StrCat("data_source_id = ", source)
                 : std::string(kEverySource),
      " AND occurred_at >= ", lo, " AND occurred_at < ", hi,
      " GROUP BY currency, type");
  sql.movement_months = absl::StrCat(
      "SELECT currency, type, ", sum,
      "(mrr_change) FROM mrr_movement_rollups"
      " WHERE ",
      one_source ? absl::StrCat("data_source_id = ", source, " AND ") : "",
      months_in_range, " GROUP BY currency, type");
  const auto delta_rows = [&](absl::string_view scope) {
    return absl::StrCat("SELECT currency, ", delta_sums,
                        " FROM mrr_deltas WHERE ", scope, deltas_in_range,
                        " GROUP BY currency");
  };
  if (one_source) {
    sql.delta_rows = delta_rows(absl::StrCat("data_source_id = ", source));
  } else {
    sql.delta_rows =
        delta_rows(absl::StrCat(kEverySource, " AND in_total = 1"));
    sql.sourceless_delta_rows =
        delta_rows("data_source_id IS NULL AND in_total = 1");
  }
  sql.delta_months = absl::StrCat(
      "SELECT currency, ", delta_sums, " FROM mrr_delta_rollups WHERE ",
      one_source ? absl::StrCat("source_key = ", source) : "in_total = 1",
      " AND ", months_in_range, " GROUP BY currency");
  return sql;
}

// ReadTransaction::SumMrr over `bounds` by PlanMrrSum: `add(months, lo, hi,
// builder)` adds to `builder` the sums of the rows with `at` in [lo, hi)
// (months false) or of the rollups of the months in [lo, hi) (months true),
// and returns a Status.
template <typename AddFn>
absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrrByMonth(
    absl::Span<const absl::Time> bounds, AddFn add) {
  std::vector<std::vector<MrrSums>> out;
  out.reserve(bounds.size());
  int64_t lo = kMrrMinMicros;
  for (const absl::Time bound : bounds) {
    const int64_t hi = absl::ToUnixMicros(bound);
    MrrSumsBuilder builder;
    if (lo < hi) {
      const MrrSumPlan plan = PlanMrrSum(lo, hi);
      for (const auto& [rows_lo, rows_hi] : plan.rows) {
        absl::Status status = add(false, rows_lo, rows_hi, builder);
        if (!status.ok()) return status;
      }
      if (plan.months_lo < plan.months_hi) {
        absl::Status status =
            add(true, plan.months_lo, plan.months_hi, builder);
        if (!status.ok()) return status;
      }
    }
    out.push_back(builder.Take());
    lo = hi;
  }
  return out;
}

// ReadTransaction::SumMrr for a backend: prepares `sql`'s statements on `db`
// and sums over `bounds` (SumMrrByMonth). `bind(statement, lo, hi)` resets
// a statement and binds the source and the range as `sql` names them.
template <typename Connection, typename BindFn>
absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrrWith(
    Connection& db, const MrrSumSql& sql, absl::Span<const absl::Time> bounds,
    BindFn bind) {
  using Statement = typename decltype(db.Prepare(std::string()))::value_type;
  RECURRENT_ASSIGN_OR_RETURN(Statement movement_rows,
                             db.Prepare(sql.movement_rows));
  RECURRENT_ASSIGN_OR_RETURN(Statement movement_months,
                             db.Prepare(sql.movement_months));
  RECURRENT_ASSIGN_OR_RETURN(Statement delta_rows, db.Prepare(sql.delta_rows));
  RECURRENT_ASSIGN_OR_RETURN(Statement delta_months,
                             db.Prepare(sql.delta_months));
  std::optional<Statement> sourceless_delta_rows;
  if (!sql.sourceless_delta_rows.empty()) {
    absl::StatusOr<Statement> prepared = db.Prepare(sql.sourceless_delta_rows);
    if (!prepared.ok()) return prepared.status();
    sourceless_delta_rows.emplace(*std::move(prepared));
  }
  return SumMrrByMonth(
      bounds,
      [&](bool months, int64_t lo, int64_t hi,
          MrrSumsBuilder& builder) -> absl::Status {
        Statement& movements = months ? movement_months : movement_rows;
        bind(movements, lo, hi);
        RECURRENT_RETURN_IF_ERROR(AddMovementSums(movements, builder));
        Statement& deltas = months ? delta_months : delta_rows;
        bind(deltas, lo, hi);
        RECURRENT_RETURN_IF_ERROR(AddDeltaSums(deltas, builder));
        if (months || !sourceless_delta_rows.has_value())
          return absl::OkStatus();
        bind(*sourceless_delta_rows, lo, hi);
        return AddDeltaSums(*sourceless_delta_rows, builder);
      });
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_MRR_SUMS_H_
