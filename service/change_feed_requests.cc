#include "service/change_feed_requests.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/errors.h"
#include "service/field_checks.h"

namespace recurrent::service {
namespace {

constexpr size_t kCursorDigits = 20;

absl::StatusOr<std::optional<int64_t>> ParseCursor(absl::string_view cursor) {
  if (cursor.empty()) return std::optional<int64_t>();
  int64_t sequence = 0;
  if (cursor.size() != kCursorDigits ||
      !std::all_of(cursor.begin(), cursor.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(cursor, &sequence) || sequence < 0) {
    return InvalidField("after_cursor",
                        "is not a cursor of this feed (pass back a Change's "
                        "cursor or a next_cursor unchanged)");
  }
  return std::optional<int64_t>(sequence);
}

absl::StatusOr<ChangesQuery> ParseFilterAndCursor(
    const std::string& data_source_uuid, const std::string& customer_uuid,
    const std::string& after_cursor) {
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(
      data_source_uuid, common::kDataSourceIdPrefix, "data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(
      customer_uuid, common::kCustomerIdPrefix, "customer_uuid"));
  ChangesQuery query;
  query.filter.data_source_uuid = data_source_uuid;
  query.filter.customer_uuid = customer_uuid;
  RECURRENT_ASSIGN_OR_RETURN(query.after, ParseCursor(after_cursor));
  return query;
}

}  // namespace

std::string ChangeCursor(int64_t sequence) {
  return absl::StrFormat("%020d", sequence);
}

absl::StatusOr<ChangesQuery> ParseListChanges(
    const v1::ListChangesRequest& request) {
  RECURRENT_ASSIGN_OR_RETURN(
      ChangesQuery query,
      ParseFilterAndCursor(request.data_source_uuid(),
                           request.customer_uuid(), request.after_cursor()));
  if (request.page_size() < 0) {
    return InvalidField("page_size", "must not be negative");
  }
  query.page_size = request.page_size() == 0
                        ? kDefaultChangesPageSize
                        : std::min(request.page_size(), kMaxChangesPageSize);
  return query;
}

absl::StatusOr<ChangesQuery> ParseWatchChanges(
    const v1::WatchChangesRequest& request) {
  return ParseFilterAndCursor(request.data_source_uuid(),
                              request.customer_uuid(), request.after_cursor());
}

}  // namespace recurrent::service
