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

constexpr size_t kSequenceDigits = 20;
constexpr size_t kCheckDigits = 8;

bool IsDigits(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return absl::ascii_isdigit(c); });
}

bool IsLowercaseHex(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
  });
}

absl::StatusOr<std::optional<core::Store::ChangePosition>> ParseCursor(
    absl::string_view cursor) {
  if (cursor.empty()) return std::optional<core::Store::ChangePosition>();
  core::Store::ChangePosition position;
  const absl::string_view sequence = cursor.substr(0, kSequenceDigits);
  const absl::string_view check = cursor.substr(sequence.size());
  bool valid = sequence.size() == kSequenceDigits && IsDigits(sequence) &&
               absl::SimpleAtoi(sequence, &position.sequence) &&
               position.sequence >= 0;
  if (valid && !check.empty()) {
    uint32_t value = 0;
    valid = check.size() == 1 + kCheckDigits && check[0] == '-' &&
            IsLowercaseHex(check.substr(1)) &&
            absl::SimpleHexAtoi(check.substr(1), &value);
    position.check = value;
  }
  if (!valid) {
    return InvalidField("after_cursor",
                        "is not a cursor of this feed (pass back a Change's "
                        "cursor or a next_cursor unchanged)");
  }
  return std::optional<core::Store::ChangePosition>(position);
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

std::string ChangeCursor(const core::Store::ChangePosition& position) {
  if (!position.check.has_value()) {
    return absl::StrFormat("%020d", position.sequence);
  }
  return absl::StrFormat("%020d-%08x", position.sequence, *position.check);
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
