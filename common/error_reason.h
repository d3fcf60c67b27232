// Error reasons: the stable, machine-readable cause of an error, attached to
// an absl::Status where the error is made.
//
// A reason is the name of a value of recurrent.v1.ErrorReason
// (protos/recurrent/v1/error_reason.proto, which documents each). The
// service sends it to callers as a google.rpc.ErrorInfo (service/errors.h,
// ToGrpcStatus), with the metadata attached here, and decides there, in one
// table, which reasons also come with a google.rpc.RetryInfo. A status
// without a reason gets one derived from its code.
//
// Reason and metadata travel as payloads of the absl::Status, so they survive
// being returned up through the layers unchanged; a layer that makes a new
// status from an old one's message must attach the reason again. Nothing
// here depends on gRPC: every layer may use it.
//
//   return WithReason(absl::ResourceExhaustedError("..."), reason::kTagLimit,
//                     {{"limit", "100"}});
#ifndef RECURRENT_COMMON_ERROR_REASON_H_
#define RECURRENT_COMMON_ERROR_REASON_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recurrent::common {

// The reasons made below the service, one constant per value of
// recurrent.v1.ErrorReason that is attached where an error is made (the
// fallbacks derived from codes live in service/errors.cc).
namespace reason {
inline constexpr absl::string_view kInvalidField = "INVALID_FIELD";
inline constexpr absl::string_view kInvalidRequest = "INVALID_REQUEST";
inline constexpr absl::string_view kMalformedRequest = "MALFORMED_REQUEST";
inline constexpr absl::string_view kChangeCursorUnknown =
    "CHANGE_CURSOR_UNKNOWN";
inline constexpr absl::string_view kChangeCursorExpired =
    "CHANGE_CURSOR_EXPIRED";
inline constexpr absl::string_view kChangeLogBehind = "CHANGE_LOG_BEHIND";
inline constexpr absl::string_view kResourceNotFound = "RESOURCE_NOT_FOUND";
inline constexpr absl::string_view kResourceAlreadyExists =
    "RESOURCE_ALREADY_EXISTS";
inline constexpr absl::string_view kSubscriptionOfOtherCustomer =
    "SUBSCRIPTION_OF_OTHER_CUSTOMER";
inline constexpr absl::string_view kSubscriptionNotStarted =
    "SUBSCRIPTION_NOT_STARTED";
inline constexpr absl::string_view kCustomerBeingMerged =
    "CUSTOMER_BEING_MERGED";
inline constexpr absl::string_view kTagLimit = "TAG_LIMIT";
inline constexpr absl::string_view kSubscriptionLimit = "SUBSCRIPTION_LIMIT";
inline constexpr absl::string_view kInvoiceLimit = "INVOICE_LIMIT";
inline constexpr absl::string_view kOverloaded = "OVERLOADED";
inline constexpr absl::string_view kShuttingDown = "SHUTTING_DOWN";
inline constexpr absl::string_view kDatabaseBusy = "DATABASE_BUSY";
inline constexpr absl::string_view kDatabaseUnavailable =
    "DATABASE_UNAVAILABLE";
inline constexpr absl::string_view kCommitOutcomeUnknown =
    "COMMIT_OUTCOME_UNKNOWN";
inline constexpr absl::string_view kDatabaseReadOnly = "DATABASE_READ_ONLY";
inline constexpr absl::string_view kDatabaseReplaced = "DATABASE_REPLACED";
inline constexpr absl::string_view kDiskFull = "DISK_FULL";
inline constexpr absl::string_view kApiKeyMissing = "API_KEY_MISSING";
inline constexpr absl::string_view kApiKeyMalformed = "API_KEY_MALFORMED";
inline constexpr absl::string_view kApiKeyInvalid = "API_KEY_INVALID";
inline constexpr absl::string_view kApiKeyRoleTooLow = "API_KEY_ROLE_TOO_LOW";
inline constexpr absl::string_view kInternal = "INTERNAL";
}  // namespace reason

// ErrorInfo metadata: key, value.
using ReasonMetadata = std::vector<std::pair<std::string, std::string>>;

// Returns `status` with `reason` (a reason:: constant) and `metadata`
// attached, replacing any reason and metadata it had. An OK status is
// returned unchanged.
absl::Status WithReason(absl::Status status, absl::string_view reason,
                        const ReasonMetadata& metadata = {});

// NOT_FOUND "<resource_type> <id> not found" with reason RESOURCE_NOT_FOUND
// and metadata resource_type and resource_id, e.g.
// ResourceNotFound("customer", uuid). `resource_type` is snake_case
// ("data_source"); the message spells it with spaces.
absl::Status ResourceNotFound(absl::string_view resource_type,
                              absl::string_view id);

// `status` (an ALREADY_EXISTS made by the caller, whose message names the
// resource) with reason RESOURCE_ALREADY_EXISTS and metadata resource_type
// and resource_id.
absl::Status ResourceAlreadyExists(absl::Status status,
                                   absl::string_view resource_type,
                                   absl::string_view id);

// INVALID_ARGUMENT for one bad request field, e.g.
// InvalidField("customer.country", "must be an ISO 3166-1 alpha-2 code"),
// with reason INVALID_FIELD. The message reads "customer.country: must be
// …"; the field path is also attached (see FieldOf), so that the service
// sends a google.rpc.BadRequest naming it. Any layer that checks a request
// field uses it.
absl::Status InvalidField(absl::string_view field, absl::string_view problem);

// The field path attached by InvalidField, if any.
std::optional<std::string> FieldOf(const absl::Status& status);

// The reason attached by WithReason, if any.
std::optional<std::string> ReasonOf(const absl::Status& status);

// Whether `status` carries `reason` (a reason:: constant).
bool HasReason(const absl::Status& status, absl::string_view reason);

// The metadata attached by WithReason (empty if none), sorted by key.
std::map<std::string, std::string> ReasonMetadataOf(const absl::Status& status);

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_ERROR_REASON_H_
