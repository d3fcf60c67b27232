// Field checks shared by the request parsers (service/*_requests.h). Each
// returns OK or InvalidField(field, …) naming the field.
#ifndef RECURRENT_SERVICE_FIELD_CHECKS_H_
#define RECURRENT_SERVICE_FIELD_CHECKS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "persistence/records.h"

namespace recurrent::service {

// Longest external id, and longest name-like text (names, emails, tags).
inline constexpr size_t kMaxExternalIdLength = 255;
inline constexpr size_t kMaxNameLength = 255;
// Longest free text (descriptions).
inline constexpr size_t kMaxTextLength = 1024;

// `value` is at most `max` bytes and has no control character (C0 or DEL).
absl::Status CheckLength(absl::string_view value, size_t max,
                         absl::string_view field);
// Free text: at most `max` bytes, line breaks and tabs allowed, but no
// other control character (C0 or DEL: terminal escapes in logs and
// exports), and no NUL (PostgreSQL's text cannot hold one).
absl::Status CheckText(absl::string_view value, size_t max,
                       absl::string_view field);
// `value` is not blank and at most `max` bytes.
absl::Status CheckRequired(absl::string_view value, size_t max,
                           absl::string_view field);
// `value` cut to at most `max` bytes for an error message to quote, at the
// start of a character, never inside one: messages and error details are
// proto3 strings, which a client's decoder refuses if they are not UTF-8.
// (`value` itself is UTF-8: requests that are not are refused when parsed.)
std::string Excerpt(absl::string_view value, size_t max);
// A timestamp that must be present.
absl::StatusOr<absl::Time> RequiredTime(bool present,
                                        const google::protobuf::Timestamp& ts,
                                        absl::string_view field);

// An external id (the billing system's own id of a customer, invoice, line
// item, transaction, subscription or plan) that a write stores: not empty,
// at most kMaxExternalIdLength bytes, no control characters, and no space at
// either end: ASCII's, a no-break or other Unicode space, a zero-width space
// (" c1" and "c1" would be two customers). The filters that look external
// ids up check only CheckLength, so rows stored before this check are found.
absl::Status CheckExternalId(absl::string_view value, absl::string_view field);

// Like CheckExternalId, but an empty value is fine (derived or not given).
absl::Status CheckOptionalExternalId(absl::string_view value,
                                     absl::string_view field);

// Longest page_token accepted (INVALID_ARGUMENT beyond).
inline constexpr size_t kMaxPageTokenLength = 1024;

// Checks that `value` has the shape of an id made with `prefix`
// (common::HasIdShape): "cus_x" is INVALID_ARGUMENT, not NOT_FOUND.
absl::Status CheckId(absl::string_view value, absl::string_view prefix,
                     absl::string_view field);

// Like CheckId, but an empty value is fine (an unset filter).
absl::Status CheckOptionalId(absl::string_view value, absl::string_view prefix,
                             absl::string_view field);

// Resolves `page_size` (0: persistence::kDefaultPageSize; larger than
// persistence::kMaxPageSize: clamped) and carries the token along.
absl::StatusOr<persistence::PageRequest> ParsePage(int page_size,
                                                   absl::string_view token);

// The instant a read answers for: `as_of` if set, else `now`. Any valid
// timestamp is accepted (a future one projects the known facts forward).
absl::StatusOr<absl::Time> ParseAsOf(bool has_as_of,
                                     const google::protobuf::Timestamp& as_of,
                                     absl::Time now);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_FIELD_CHECKS_H_
