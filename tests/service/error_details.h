// Reading the error details (google.rpc.Status) of a grpc::Status in tests.
#ifndef RECURRENT_TESTS_SERVICE_ERROR_DETAILS_H_
#define RECURRENT_TESTS_SERVICE_ERROR_DETAILS_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace recurrent::service::testing {

// The google.rpc.Status in the details of `status` (empty if none).
inline google::rpc::Status DetailsOf(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  return details;
}

// The google.rpc.ErrorInfo in the details of `status` (empty if none).
inline google::rpc::ErrorInfo ErrorInfoOf(const grpc::Status& status) {
  google::rpc::ErrorInfo info;
  const google::rpc::Status details = DetailsOf(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&info)) return info;
  }
  return info;
}

// The ErrorInfo reason of `status` ("" if none).
inline std::string ReasonOf(const grpc::Status& status) {
  return ErrorInfoOf(status).reason();
}

// The google.rpc.RetryInfo delay in the details of `status`, if any.
inline std::optional<absl::Duration> RetryDelayOf(const grpc::Status& status) {
  google::rpc::RetryInfo retry;
  const google::rpc::Status details = DetailsOf(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&retry)) {
      return absl::Seconds(retry.retry_delay().seconds()) +
             absl::Nanoseconds(retry.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

}  // namespace recurrent::service::testing

#endif  // RECURRENT_TESTS_SERVICE_ERROR_DETAILS_H_
