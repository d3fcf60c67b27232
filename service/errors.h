// Errors: building request errors and converting statuses for gRPC.
//
// ToGrpcStatus() is the one place where an internal absl::Status becomes the
// grpc::Status a caller sees. Internal failures (kInternal, kUnknown,
// kDataLoss) are logged in full and reported to the caller without detail, so
// that no SQL, path or stack text leaks.
//
// Every error a caller sees carries a google.rpc.Status in its details with a
// google.rpc.ErrorInfo (domain "recurrent", reason one of
// recurrent.v1.ErrorReason, protos/recurrent/v1/error_reason.proto): the
// reason attached where the error was made (common/error_reason.h), or one
// derived from the code. The reasons a retry can cure also get a
// google.rpc.RetryInfo; RetryDelayFor says which, from one table.
#ifndef RECURRENT_SERVICE_ERRORS_H_
#define RECURRENT_SERVICE_ERRORS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "grpcpp/support/status.h"

namespace recurrent::service {

// Field errors (common/error_reason.h), used by every request parser here.
using common::FieldOf;
using common::InvalidField;

// The ErrorInfo.domain of every error: "recurrent".
inline constexpr absl::string_view kErrorDomain = "recurrent";

// Converts `status` for a gRPC caller (see the file comment). The details
// hold, in this order: the google.rpc.ErrorInfo (reason ReasonFor(status),
// with the attached metadata); a google.rpc.RetryInfo when
// RetryDelayFor(reason) has a delay; and, for a status made by
// InvalidField, a google.rpc.BadRequest with the field violation, so every
// client can show which field is wrong.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The ErrorInfo.reason `status` (not OK) is sent with: the reason attached
// by common::WithReason (INVALID_FIELD for InvalidField), else the fallback
// for its code (INTERNAL for the internal codes, INVALID_REQUEST,
// RESOURCE_NOT_FOUND, RESOURCE_ALREADY_EXISTS, or the code's own name).
// Always INTERNAL for an internal code, whatever was attached.
std::string ReasonFor(const absl::Status& status);

// How long a caller should wait before retrying after an error with
// `reason`; std::nullopt if retrying cannot help (or the reason is
// unknown), when no RetryInfo is sent.
std::optional<absl::Duration> RetryDelayFor(absl::string_view reason);

// Every reason this server sends (the attached ones and the fallbacks),
// with no duplicates, in the order of recurrent.v1.ErrorReason.
std::vector<absl::string_view> AllReasons();

// The name of a gRPC status code ("OK", "NOT_FOUND", ...), as metrics and
// logs show it; the number for a code gRPC does not define.
std::string StatusCodeName(int code);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_ERRORS_H_
