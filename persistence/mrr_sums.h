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
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/mrr_types.h"
#include "persistence/records.h"

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
    by_currency_[currency] += mrr_in_cents;
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

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_MRR_SUMS_H_
