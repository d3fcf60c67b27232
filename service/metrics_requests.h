// Parsing and validation of MetricsService requests
// (protos/recurrent/v1/metrics.proto): each returns what the core takes, or
// InvalidField naming the first bad field.
#ifndef RECURRENT_SERVICE_METRICS_REQUESTS_H_
#define RECURRENT_SERVICE_METRICS_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/mrr_metrics.h"
#include "persistence/records.h"
#include "recurrent/v1/metrics.pb.h"

namespace recurrent::service {

struct MrrQuery {
  std::string data_source_uuid;
  absl::Time as_of;
};
absl::StatusOr<MrrQuery> ParseGetMrr(const v1::GetMrrRequest& request,
                                     absl::Time now);

struct MrrMovementQuery {
  persistence::MrrMovementFilter filter;
  persistence::PageRequest page;
};
absl::StatusOr<MrrMovementQuery> ParseListMrrMovements(
    const v1::ListMrrMovementsRequest& request);

struct MrrSeriesQuery {
  std::string data_source_uuid;
  absl::Time start;
  absl::Time end;
  core::SeriesInterval interval = core::SeriesInterval::kMonth;
};
// Also checks the number of points (core::SeriesBounds).
absl::StatusOr<MrrSeriesQuery> ParseGetMrrSeries(
    const v1::GetMrrSeriesRequest& request);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_METRICS_REQUESTS_H_
