#include "service/field_checks.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "service/convert.h"
#include "service/errors.h"

namespace recurrent::service {

absl::Status CheckLength(absl::string_view value, size_t max,
                         absl::string_view field) {
  if (value.size() > max) {
    return InvalidField(field,
                        absl::StrCat("must be at most ", max, " bytes long"));
  }
  return absl::OkStatus();
}

absl::Status CheckRequired(absl::string_view value, size_t max,
                           absl::string_view field) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return InvalidField(field, "required");
  }
  return CheckLength(value, max, field);
}

absl::StatusOr<absl::Time> RequiredTime(bool present,
                                        const google::protobuf::Timestamp& ts,
                                        absl::string_view field) {
  if (!present) return InvalidField(field, "required");
  return TimeFromProto(ts, field);
}

}  // namespace recurrent::service
