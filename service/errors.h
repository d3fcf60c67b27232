// Errors: building request errors and converting statuses for gRPC.
//
// ToGrpcStatus() is the one place where an internal absl::Status becomes the
// grpc::Status a caller sees. Internal failures (kInternal, kUnknown,
// kDataLoss) are logged in full and reported to the caller without detail, so
// that no SQL, path or stack text leaks.
#ifndef RECURRENT_SERVICE_ERRORS_H_
#define RECURRENT_SERVICE_ERRORS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace recurrent::service {

// INVALID_ARGUMENT for one bad request field, e.g.
// InvalidField("customer.country", "must be an ISO 3166-1 alpha-2 code").
// The message reads "customer.country: must be …"; the field path is also
// attached as a payload (see FieldOf).
absl::Status InvalidField(absl::string_view field, absl::string_view problem);

// The field path attached by InvalidField, if any.
std::optional<std::string> FieldOf(const absl::Status& status);

// Converts `status` for a gRPC caller (see the file comment). A status made
// by InvalidField also carries a google.rpc.Status with a
// google.rpc.BadRequest field violation in its details, so every client can
// show which field is wrong.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The name of a gRPC status code ("OK", "NOT_FOUND", ...), as metrics and
// logs show it; the number for a code gRPC does not define.
std::string StatusCodeName(int code);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_ERRORS_H_
