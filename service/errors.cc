#include "service/errors.h"

#include <cstdint>
#include <iterator>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace recurrent::service {
namespace {

namespace reason = common::reason;

// Every reason the server sends, in the order of recurrent.v1.ErrorReason,
// with the least wait before a retry: the one table that decides which
// errors come with a google.rpc.RetryInfo. Zero: retrying the same request
// cannot help (it fails the same way until something else changes), so no
// RetryInfo is sent.
struct ReasonRule {
  absl::string_view reason;
  absl::Duration retry_delay;
};
constexpr absl::Duration kNoRetry = absl::ZeroDuration();
constexpr ReasonRule kReasonRules[] = {
    {reason::kInvalidField, kNoRetry},
    {reason::kInvalidRequest, kNoRetry},
    {reason::kMalformedRequest, kNoRetry},
    {reason::kChangeCursorUnknown, kNoRetry},
    {reason::kChangeCursorExpired, kNoRetry},
    // A hot standby replays what its primary commits within about a second.
    {reason::kChangeLogBehind, absl::Seconds(1)},
    {reason::kResourceNotFound, kNoRetry},
    {reason::kResourceAlreadyExists, kNoRetry},
    {reason::kSubscriptionOfOtherCustomer, kNoRetry},
    {reason::kSubscriptionNotStarted, kNoRetry},
    // A merge holds its customers for one short transaction.
    {reason::kCustomerBeingMerged, absl::Seconds(1)},
    {reason::kTagLimit, kNoRetry},
    {reason::kSubscriptionLimit, kNoRetry},
    {reason::kInvoiceLimit, kNoRetry},
    // Calls in flight and queued work drain within about a second.
    {reason::kOverloaded, absl::Seconds(1)},
    // Long enough for a restart or for a balancer to notice.
    {reason::kShuttingDown, absl::Seconds(5)},
    // SQLite has already waited its busy timeout; conflicts clear quickly.
    {reason::kDatabaseBusy, absl::Seconds(1)},
    // A PostgreSQL restart or failover takes seconds.
    {reason::kDatabaseUnavailable, absl::Seconds(5)},
    // The write may be stored: the caller must look before it re-sends.
    {reason::kCommitOutcomeUnknown, kNoRetry},
    {reason::kDatabaseReadOnly, kNoRetry},
    {reason::kDatabaseReplaced, kNoRetry},
    {reason::kDiskFull, kNoRetry},
    {reason::kApiKeyMissing, kNoRetry},
    {reason::kApiKeyMalformed, kNoRetry},
    {reason::kApiKeyInvalid, kNoRetry},
    {reason::kApiKeyRoleTooLow, kNoRetry},
    {reason::kInternal, kNoRetry},
    // The fallbacks named after their code (FallbackReason).
    {"CANCELLED", kNoRetry},
    {"DEADLINE_EXCEEDED", kNoRetry},
    {"PERMISSION_DENIED", kNoRetry},
    {"RESOURCE_EXHAUSTED", kNoRetry},
    {"FAILED_PRECONDITION", kNoRetry},
    {"ABORTED", kNoRetry},
    {"OUT_OF_RANGE", kNoRetry},
    {"UNIMPLEMENTED", kNoRetry},
    {"UNAVAILABLE", kNoRetry},
    {"UNAUTHENTICATED", kNoRetry},
};

// The internal codes: logged, sent without their message.
bool IsInternal(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal ||
         code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kDataLoss;
}

// The reason of a status of `code` (not OK, not internal) that has none
// attached.
std::string FallbackReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return std::string(reason::kInvalidRequest);
    case absl::StatusCode::kNotFound:
      return std::string(reason::kResourceNotFound);
    case absl::StatusCode::kAlreadyExists:
      return std::string(reason::kResourceAlreadyExists);
    default:
      // "FAILED_PRECONDITION", ...: gRPC and Abseil share the code names.
      return StatusCodeName(static_cast<int>(code));
  }
}

}  // namespace

std::string ReasonFor(const absl::Status& status) {
  if (IsInternal(status.code())) return std::string(reason::kInternal);
  std::optional<std::string> attached = common::ReasonOf(status);
  return attached.has_value() ? *std::move(attached)
                              : FallbackReason(status.code());
}

std::optional<absl::Duration> RetryDelayFor(absl::string_view reason) {
  for (const ReasonRule& rule : kReasonRules) {
    if (rule.reason != reason) continue;
    if (rule.retry_delay == kNoRetry) return std::nullopt;
    return rule.retry_delay;
  }
  return std::nullopt;
}

std::vector<absl::string_view> AllReasons() {
  std::vector<absl::string_view> reasons;
  for (const ReasonRule& rule : kReasonRules) reasons.push_back(rule.reason);
  return reasons;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const bool internal = IsInternal(status.code());
  std::string message;
  if (internal) {
    log::Error("internal error", {{"error", status.ToString()}});
    message = "internal error; see the server log";
  } else {
    message = std::string(status.message());
  }
  google::rpc::Status details;
  details.set_code(status.raw_code());
  details.set_message(message);

  google::rpc::ErrorInfo info;
  info.set_reason(ReasonFor(status));
  info.set_domain(std::string(kErrorDomain));
  if (!internal) {
    for (auto& [key, value] : common::ReasonMetadataOf(status)) {
      (*info.mutable_metadata())[key] = std::move(value);
    }
  }
  details.add_details()->PackFrom(info);

  if (std::optional<absl::Duration> delay = RetryDelayFor(info.reason())) {
    google::rpc::RetryInfo retry;
    const int64_t seconds =
        absl::IDivDuration(*delay, absl::Seconds(1), &*delay);
    retry.mutable_retry_delay()->set_seconds(seconds);
    retry.mutable_retry_delay()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(*delay)));
    details.add_details()->PackFrom(retry);
  }

  std::optional<std::string> field = FieldOf(status);
  if (!internal && field.has_value()) {
    google::rpc::BadRequest bad_request;
    google::rpc::BadRequest::FieldViolation* violation =
        bad_request.add_field_violations();
    violation->set_field(*field);
    absl::string_view description = message;
    absl::ConsumePrefix(&description, absl::StrCat(*field, ": "));
    violation->set_description(std::string(description));
    details.add_details()->PackFrom(bad_request);
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

std::string StatusCodeName(int code) {
  static constexpr absl::string_view kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) {
    return absl::StrCat(code);
  }
  return std::string(kNames[code]);
}

}  // namespace recurrent::service
