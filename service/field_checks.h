// Field checks shared by the request parsers (service/requests.h). Each
// returns OK or InvalidField(field, …) naming the field.
#ifndef RECURRENT_SERVICE_FIELD_CHECKS_H_
#define RECURRENT_SERVICE_FIELD_CHECKS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace recurrent::service {

// Longest external id, and longest name-like text (names, emails, tags).
inline constexpr size_t kMaxIdLength = 255;
inline constexpr size_t kMaxNameLength = 255;
// Longest free text (descriptions).
inline constexpr size_t kMaxTextLength = 1024;

// `value` is at most `max` bytes.
absl::Status CheckLength(absl::string_view value, size_t max,
                         absl::string_view field);
// `value` is not blank and at most `max` bytes.
absl::Status CheckRequired(absl::string_view value, size_t max,
                           absl::string_view field);
// A timestamp that must be present.
absl::StatusOr<absl::Time> RequiredTime(bool present,
                                        const google::protobuf::Timestamp& ts,
                                        absl::string_view field);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_FIELD_CHECKS_H_
