#include "clients/cli/values.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/money.h"

namespace recurrent::cli {
namespace {

google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp proto;
  const int64_t seconds = absl::ToUnixSeconds(time);
  proto.set_seconds(seconds);
  proto.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return proto;
}

// Lower case with '-' for '_', the enum's prefix removed.
std::string FriendlyEnum(const std::string& proto_name,
                         absl::string_view prefix) {
  absl::string_view name = proto_name;
  if (!absl::ConsumePrefix(&name, prefix) || name == "UNSPECIFIED") return "";
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}});
}

}  // namespace

absl::StatusOr<google::protobuf::Timestamp> ParseTimeFlag(
    absl::string_view flag, absl::string_view value, absl::Time now) {
  if (value == "now") return ToProto(now);
  absl::CivilDay day;
  if (value.size() == 10 && absl::ParseCivilTime(value, &day)) {
    return ToProto(absl::FromCivil(day, absl::UTCTimeZone()));
  }
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, value, &time, &error)) {
    return ToProto(time);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag,
                   " must be a date (2025-03-01) or an RFC 3339 time "
                   "(2025-03-01T10:30:00Z), got \"",
                   value, "\""));
}

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  absl::Time t =
      absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
  absl::TimeZone utc = absl::UTCTimeZone();
  if (time.nanos() == 0 && time.seconds() % 86400 == 0) {
    return absl::FormatTime("%Y-%m-%d", t, utc);
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, utc);
}

absl::StatusOr<v1::CustomerStatus> ParseCustomerStatus(
    absl::string_view flag, absl::string_view value) {
  std::string name =
      absl::StrReplaceAll(absl::AsciiStrToLower(value), {{"_", "-"}});
  absl::string_view view = name;
  absl::ConsumePrefix(&view, "customer-status-");
  if (view == "lead") return v1::CUSTOMER_STATUS_LEAD;
  if (view == "active") return v1::CUSTOMER_STATUS_ACTIVE;
  if (view == "past-due" || view == "pastdue") {
    return v1::CUSTOMER_STATUS_PAST_DUE;
  }
  if (view == "cancelled" || view == "canceled") {
    return v1::CUSTOMER_STATUS_CANCELLED;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag,
                   " must be lead, active, past-due or cancelled, "
                   "got \"",
                   value, "\""));
}

absl::StatusOr<v1::SeriesInterval> ParseSeriesInterval(
    absl::string_view flag, absl::string_view value) {
  std::string name = absl::AsciiStrToLower(value);
  absl::string_view view = name;
  absl::ConsumePrefix(&view, "series_interval_");
  if (view == "day") return v1::SERIES_INTERVAL_DAY;
  if (view == "week") return v1::SERIES_INTERVAL_WEEK;
  if (view == "month") return v1::SERIES_INTERVAL_MONTH;
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " must be day, week or month, got \"", value, "\""));
}

std::string CustomerStatusName(v1::CustomerStatus status) {
  return FriendlyEnum(v1::CustomerStatus_Name(status), "CUSTOMER_STATUS_");
}

std::string SubscriptionStatusName(v1::SubscriptionStatus status) {
  return FriendlyEnum(v1::SubscriptionStatus_Name(status),
                      "SUBSCRIPTION_STATUS_");
}

std::string EventTypeName(v1::SubscriptionEventType type) {
  return FriendlyEnum(v1::SubscriptionEventType_Name(type),
                      "SUBSCRIPTION_EVENT_TYPE_");
}

std::string TransactionTypeName(v1::TransactionType type) {
  return FriendlyEnum(v1::TransactionType_Name(type), "TRANSACTION_TYPE_");
}

std::string TransactionResultName(v1::TransactionResult result) {
  return FriendlyEnum(v1::TransactionResult_Name(result),
                      "TRANSACTION_RESULT_");
}

std::string MovementTypeName(v1::MrrMovementType type) {
  return FriendlyEnum(v1::MrrMovementType_Name(type), "MRR_MOVEMENT_TYPE_");
}

std::string HandlingName(const v1::PastDueHandling& handling) {
  switch (handling.mode()) {
    case v1::PAST_DUE_MODE_KEEP:
      return "keep";
    case v1::PAST_DUE_MODE_AUTO_CHURN:
      return absl::StrCat(
          "auto-churn after ", handling.auto_churn_after_days(),
          handling.auto_churn_after_days() == 1 ? " day" : " days");
    default:
      return "";
  }
}

std::string FormatMoney(int64_t cents, absl::string_view currency) {
  std::string amount = common::FormatMinorUnits(cents, currency);
  return currency.empty() ? amount : absl::StrCat(amount, " ", currency);
}

std::string FormatMoneyList(
    const google::protobuf::RepeatedPtrField<v1::MrrAmount>& amounts) {
  return absl::StrJoin(
      amounts, ", ", [](std::string* out, const v1::MrrAmount& amount) {
        out->append(FormatMoney(amount.mrr_in_cents(), amount.currency()));
      });
}

}  // namespace recurrent::cli
