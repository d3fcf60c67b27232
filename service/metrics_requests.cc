#include "service/metrics_requests.h"

#include "common/error_reason.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/field_checks.h"

namespace recurrent::service {

absl::StatusOr<MrrQuery> ParseGetMrr(const v1::GetMrrRequest& request,
                                     absl::Time now) {
  MrrQuery query;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  query.data_source_uuid = request.data_source_uuid();
  RECURRENT_ASSIGN_OR_RETURN(
      query.as_of, ParseAsOf(request.has_as_of(), request.as_of(), now));
  return query;
}

absl::StatusOr<MrrMovementQuery> ParseListMrrMovements(
    const v1::ListMrrMovementsRequest& request) {
  MrrMovementQuery query;
  persistence::MrrMovementFilter& filter = query.filter;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(
      request.customer_uuid(), common::kCustomerIdPrefix, "customer_uuid"));
  filter.data_source_uuid = request.data_source_uuid();
  filter.customer_uuid = request.customer_uuid();
  if (request.has_start_time()) {
    RECURRENT_ASSIGN_OR_RETURN(
        filter.start, TimeFromProto(request.start_time(), "start_time"));
  }
  if (request.has_end_time()) {
    RECURRENT_ASSIGN_OR_RETURN(filter.end,
                               TimeFromProto(request.end_time(), "end_time"));
  }
  if (filter.start.has_value() && filter.end.has_value() &&
      *filter.start >= *filter.end) {
    return common::InvalidField("end_time", "must be after start_time");
  }
  RECURRENT_ASSIGN_OR_RETURN(
      query.page, ParsePage(request.page_size(), request.page_token()));
  return query;
}

absl::StatusOr<MrrSeriesQuery> ParseGetMrrSeries(
    const v1::GetMrrSeriesRequest& request) {
  MrrSeriesQuery query;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  query.data_source_uuid = request.data_source_uuid();
  RECURRENT_ASSIGN_OR_RETURN(
      query.start, RequiredTime(request.has_start_time(), request.start_time(),
                                "start_time"));
  RECURRENT_ASSIGN_OR_RETURN(
      query.end,
      RequiredTime(request.has_end_time(), request.end_time(), "end_time"));
  switch (request.interval()) {
    case v1::SERIES_INTERVAL_DAY:
      query.interval = core::SeriesInterval::kDay;
      break;
    case v1::SERIES_INTERVAL_WEEK:
      query.interval = core::SeriesInterval::kWeek;
      break;
    case v1::SERIES_INTERVAL_MONTH:
      query.interval = core::SeriesInterval::kMonth;
      break;
    case v1::SERIES_INTERVAL_UNSPECIFIED:
      return common::InvalidField("interval", "required");
    default:
      return common::InvalidField("interval", "unknown value");
  }
  RECURRENT_RETURN_IF_ERROR(core::SeriesBounds(query.start, query.end,
                                               query.interval,
                                               core::kMaxSeriesPoints)
                                .status());
  return query;
}

}  // namespace recurrent::service
