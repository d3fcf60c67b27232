// Conversions between recurrentctl's flag values and table cells and the
// API's types: times, enums with friendly names, money.
#ifndef RECURRENT_CLIENTS_CLI_VALUES_H_
#define RECURRENT_CLIENTS_CLI_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"
#include "recurrent/v1/metrics.pb.h"
#include "recurrent/v1/source_settings.pb.h"

namespace recurrent::cli {

// Parses a date ("2025-03-01", midnight UTC), an RFC 3339 time
// ("2025-03-01T10:30:00Z", "2025-03-01T10:30:00+02:00") or "now" (`now`:
// Session::Now()). INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<google::protobuf::Timestamp> ParseTimeFlag(
    absl::string_view flag, absl::string_view value, absl::Time now);

// "2025-03-01" for midnight UTC, "2025-03-01T10:30:00Z" otherwise (whole
// seconds: tables are for people; --output=json is exact), "" when
// unset (zero).
std::string FormatTime(const google::protobuf::Timestamp& time);

// Accepts "past-due", "past_due", "PAST_DUE", "CUSTOMER_STATUS_PAST_DUE"
// (any case) and likewise for lead, active, cancelled.
absl::StatusOr<v1::CustomerStatus> ParseCustomerStatus(absl::string_view flag,
                                                       absl::string_view value);

// Accepts day, week or month (any case; also "SERIES_INTERVAL_MONTH").
// INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<v1::SeriesInterval> ParseSeriesInterval(absl::string_view flag,
                                                       absl::string_view value);

// Friendly lower-case names: "past-due", "auto-churned", "subscription",
// "new-business".
// An unknown or unspecified value prints as "" (a "-" cell).
std::string CustomerStatusName(v1::CustomerStatus status);
std::string SubscriptionStatusName(v1::SubscriptionStatus status);
std::string EventTypeName(v1::SubscriptionEventType type);
std::string TransactionTypeName(v1::TransactionType type);
std::string TransactionResultName(v1::TransactionResult result);
std::string MovementTypeName(v1::MrrMovementType type);

// "keep" or "auto-churn after 14 days".
std::string HandlingName(const v1::PastDueHandling& handling);

// "49.00 EUR", "-5.10 USD", "5000 JPY" (common::FormatMinorUnits).
std::string FormatMoney(int64_t cents, absl::string_view currency);

// Amounts in several currencies, each as FormatMoney prints it, in the
// order given: "49.00 EUR, 12.00 USD"; "" when there are none.
std::string FormatMoneyList(
    const google::protobuf::RepeatedPtrField<v1::MrrAmount>& amounts);

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_VALUES_H_
