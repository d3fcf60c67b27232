#include "core/mrr_metrics.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/saturating.h"
#include "common/status_macros.h"

namespace recurrent::core {
namespace {

using persistence::MrrSums;

// The running state of a scope: MRR and counts, as sums of rows.
struct Running {
  struct Currency {
    int64_t mrr = 0;
    int64_t past_due_mrr = 0;
    int64_t mrr_active_customers = 0;
    int64_t mrr_past_due_customers = 0;
  };
  std::map<std::string, Currency> currencies;
  int64_t lead = 0;
  int64_t active = 0;
  int64_t past_due = 0;
  int64_t cancelled = 0;

  void Add(const std::vector<MrrSums>& sums) {
    for (const MrrSums& s : sums) {
      if (!s.currency.empty()) {
        Currency& c = currencies[s.currency];
        // MRR sums may be clamped at the int64 range (persistence/
        // mrr_sums.h): added with saturation.
        for (const int64_t change : s.movements_in_cents) {
          c.mrr = common::SaturatingAdd(c.mrr, change);
        }
        c.past_due_mrr =
            common::SaturatingAdd(c.past_due_mrr, s.past_due_mrr_in_cents);
        c.mrr_active_customers += s.mrr_active_customers;
        c.mrr_past_due_customers += s.mrr_past_due_customers;
      }
      lead += s.lead_customers;
      active += s.active_customers;
      past_due += s.past_due_customers;
      cancelled += s.cancelled_customers;
    }
  }
};

// Stored times have microseconds: the first instant after `t`'s.
absl::Time NextMicro(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t) + 1);
}

absl::Time Floor(absl::Time t, SeriesInterval interval) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay day = absl::ToCivilDay(t, utc);
  switch (interval) {
    case SeriesInterval::kDay:
      return absl::FromCivil(day, utc);
    case SeriesInterval::kWeek: {
      // GetWeekday: Monday is day 0 of a week here.
      const int since_monday =
          (static_cast<int>(absl::GetWeekday(day)) -
           static_cast<int>(absl::Weekday::monday) + 7) % 7;
      return absl::FromCivil(day - since_monday, utc);
    }
    case SeriesInterval::kMonth:
      return absl::FromCivil(absl::CivilMonth(day), utc);
  }
  return t;
}

absl::Time Next(absl::Time t, SeriesInterval interval) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  switch (interval) {
    case SeriesInterval::kDay:
      return absl::FromCivil(absl::ToCivilDay(t, utc) + 1, utc);
    case SeriesInterval::kWeek:
      return absl::FromCivil(absl::ToCivilDay(t, utc) + 7, utc);
    case SeriesInterval::kMonth:
      return absl::FromCivil(absl::ToCivilMonth(t, utc) + 1, utc);
  }
  return t;
}

}  // namespace

absl::StatusOr<std::vector<absl::Time>> SeriesBounds(absl::Time start,
                                                     absl::Time end,
                                                     SeriesInterval interval,
                                                     int max_points) {
  if (start >= end) {
    return common::InvalidField("end_time", "must be after start_time");
  }
  std::vector<absl::Time> bounds = {Floor(start, interval)};
  while (bounds.back() < end) {
    if (static_cast<int>(bounds.size()) > max_points) {
      return common::InvalidField(
          "end_time", absl::StrCat("the series would have more than ",
                                   max_points, " points; shorten the range or"
                                   " use a longer interval"));
    }
    bounds.push_back(Next(bounds.back(), interval));
  }
  return bounds;
}

absl::StatusOr<MrrSnapshot> MrrMetrics::GetMrr(
    absl::string_view data_source_uuid, absl::Time as_of) {
  as_of = absl::FromUnixMicros(absl::ToUnixMicros(as_of));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             backend_->BeginRead());
  const absl::Time bounds[] = {NextMicro(as_of)};
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<std::vector<MrrSums>> sums,
                             txn->SumMrr(data_source_uuid, bounds));
  Running running;
  running.Add(sums.front());
  MrrSnapshot snapshot;
  snapshot.as_of = as_of;
  for (const auto& [currency, c] : running.currencies) {
    if (c.mrr == 0 && c.past_due_mrr == 0) continue;
    MrrTotal& total = snapshot.totals.emplace_back();
    total.currency = currency;
    total.mrr_in_cents = c.mrr;
    total.past_due_mrr_in_cents = c.past_due_mrr;
    total.active_mrr_in_cents = common::SaturatingSub(c.mrr, c.past_due_mrr);
    total.active_customers = c.mrr_active_customers;
    total.past_due_customers = c.mrr_past_due_customers;
  }
  snapshot.lead_customers = running.lead;
  snapshot.cancelled_customers = running.cancelled;
  return snapshot;
}

absl::StatusOr<persistence::Page<persistence::MrrMovementRow>>
MrrMetrics::ListMovements(persistence::MrrMovementFilter filter,
                          const persistence::PageRequest& page) {
  // Stored times are whole microseconds: start <= t and t < end keep their
  // meaning with the bounds rounded up to one.
  const auto round_up = [](std::optional<absl::Time>& t) {
    if (!t.has_value()) return;
    *t = absl::UnixEpoch() +
         absl::Ceil(*t - absl::UnixEpoch(), absl::Microseconds(1));
  };
  round_up(filter.start);
  round_up(filter.end);
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             backend_->BeginRead());
  return txn->ListMrrMovements(filter, page);
}

absl::StatusOr<std::vector<MrrSeriesPoint>> MrrMetrics::GetSeries(
    absl::string_view data_source_uuid, absl::Time start, absl::Time end,
    SeriesInterval interval) {
  RECURRENT_ASSIGN_OR_RETURN(
      const std::vector<absl::Time> bounds,
      SeriesBounds(start, end, interval, kMaxSeriesPoints));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             backend_->BeginRead());
  // Bucket 0: everything before the first point; bucket i: point i - 1.
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<std::vector<MrrSums>> sums,
                             txn->SumMrr(data_source_uuid, bounds));
  Running running;
  running.Add(sums[0]);
  std::vector<MrrSeriesPoint> points;
  points.reserve(bounds.size() - 1);
  for (size_t i = 1; i < bounds.size(); ++i) {
    running.Add(sums[i]);
    MrrSeriesPoint& point = points.emplace_back();
    point.start = bounds[i - 1];
    std::map<std::string, MrrSeriesTotal> totals;
    for (const auto& [currency, c] : running.currencies) {
      if (c.mrr != 0) totals[currency].mrr_in_cents = c.mrr;
    }
    for (const MrrSums& s : sums[i]) {
      bool moved = false;
      for (const int64_t change : s.movements_in_cents) {
        moved = moved || change != 0;
      }
      if (s.currency.empty() || !moved) continue;
      MrrSeriesTotal& total = totals[s.currency];
      total.mrr_in_cents = running.currencies[s.currency].mrr;
      for (int type = 0; type < 5; ++type) {
        total.movements_in_cents[type] = s.movements_in_cents[type];
      }
    }
    for (auto& [currency, total] : totals) {
      total.currency = currency;
      point.totals.push_back(std::move(total));
    }
    point.lead_customers = running.lead;
    point.active_customers = running.active;
    point.past_due_customers = running.past_due;
    point.cancelled_customers = running.cancelled;
  }
  return points;
}

absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>>
MrrMetrics::CustomersMrrAt(absl::Span<const std::string> customer_uuids,
                           absl::Time t) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             backend_->BeginRead());
  return txn->CustomersMrrAt(customer_uuids, t);
}

}  // namespace recurrent::core
