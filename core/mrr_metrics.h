// MRR metrics read from the stored MRR rows (core/mrr_rows.h): what the
// MetricsService answers (protos/recurrent/v1/metrics.proto).
//
//   MrrMetrics metrics(&backend);
//   ASSIGN_OR_RETURN(MrrSnapshot now, metrics.GetMrr("", now));
//
// Every call reads one snapshot and sums indexed rows, never an evaluation:
// whole months from the monthly rollups, partial months at the ends of an
// interval from the rows, so its cost follows the number of months and the
// rows of those partial months. Thread-safe (the backend is).
#ifndef RECURRENT_CORE_MRR_METRICS_H_
#define RECURRENT_CORE_MRR_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/mrr.h"
#include "persistence/backend.h"
#include "persistence/records.h"

namespace recurrent::core {

// MRR in one currency at an instant, split by subscription status.
struct MrrTotal {
  std::string currency;
  int64_t mrr_in_cents = 0;
  int64_t active_mrr_in_cents = 0;
  int64_t past_due_mrr_in_cents = 0;
  // Customers with MRR in this currency whose status is ACTIVE/PAST_DUE.
  int64_t active_customers = 0;
  int64_t past_due_customers = 0;
};

struct MrrSnapshot {
  absl::Time as_of;
  std::vector<MrrTotal> totals;  // currencies with MRR, sorted
  int64_t lead_customers = 0;
  int64_t cancelled_customers = 0;
};

// One interval of a series.
struct MrrSeriesTotal {
  std::string currency;
  int64_t mrr_in_cents = 0;  // after the interval's movements
  // Sums of the interval's movements by engine::MrrMovementType.
  int64_t movements_in_cents[5] = {0, 0, 0, 0, 0};
};

struct MrrSeriesPoint {
  absl::Time start;  // the interval is [start, next point's start)
  // Currencies with MRR at the end or a movement inside, sorted.
  std::vector<MrrSeriesTotal> totals;
  // Customers by status at the end of the interval.
  int64_t lead_customers = 0;
  int64_t active_customers = 0;
  int64_t past_due_customers = 0;
  int64_t cancelled_customers = 0;
};

enum class SeriesInterval { kDay, kWeek, kMonth };

// The most points GetMrrSeries returns.
inline constexpr int kMaxSeriesPoints = 1000;

// The starts of the UTC intervals (days; weeks from Monday 00:00; calendar
// months) that overlap [start, end), the first at or before `start`, and
// then the end of the last one: points + 1 instants. kInvalidArgument naming
// "end_time" if start >= end or if there would be more than `max_points`.
absl::StatusOr<std::vector<absl::Time>> SeriesBounds(absl::Time start,
                                                     absl::Time end,
                                                     SeriesInterval interval,
                                                     int max_points);

class MrrMetrics {
 public:
  // `backend` is not owned and must outlive this object.
  explicit MrrMetrics(persistence::Backend* backend) : backend_(backend) {}

  // MRR at `as_of` (inclusive) of the source `data_source_uuid` (empty: all
  // sources): totals per currency and customer counts (M1-M4, stored rows).
  // kNotFound if a named source is absent.
  absl::StatusOr<MrrSnapshot> GetMrr(absl::string_view data_source_uuid,
                                     absl::Time as_of);

  // Stored movements in time order (start <= occurred_at < end, to the
  // nanosecond). kNotFound if a named customer or source is absent;
  // kInvalidArgument for a bad page size or token.
  absl::StatusOr<persistence::Page<persistence::MrrMovementRow>> ListMovements(
      persistence::MrrMovementFilter filter,
      const persistence::PageRequest& page);

  // One point per interval of SeriesBounds(start, end, interval,
  // kMaxSeriesPoints) (its errors as they are); a movement at an interval's
  // end belongs to the next. kNotFound if a named source is absent.
  absl::StatusOr<std::vector<MrrSeriesPoint>> GetSeries(
      absl::string_view data_source_uuid, absl::Time start, absl::Time end,
      SeriesInterval interval);

  // The stored MRR at `t` of each customer (ReadTransaction::
  // CustomersMrrAt).
  absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> CustomersMrrAt(
      absl::Span<const std::string> customer_uuids, absl::Time t);

 private:
  persistence::Backend* const backend_;
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_MRR_METRICS_H_
