#include "service/field_checks.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/errors.h"

namespace recurrent::service {

// The first control character of `value` (C0 or DEL; tabs and line breaks
// too unless `allow_breaks`), or nullopt if none.
std::optional<unsigned char> FirstControl(absl::string_view value,
                                          bool allow_breaks) {
  for (const char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (allow_breaks && (c == '\t' || c == '\n' || c == '\r')) continue;
    if (u < 0x20 || u == 0x7f) return u;
  }
  return std::nullopt;
}

absl::Status CheckLength(absl::string_view value, size_t max,
                         absl::string_view field) {
  if (value.size() > max) {
    return InvalidField(field,
                        absl::StrCat("must be at most ", max, " bytes long"));
  }
  // Names, ids and tags end up in logs, terminals and CSV exports: no NUL,
  // line breaks or escape sequences.
  if (FirstControl(value, /*allow_breaks=*/false).has_value()) {
    return InvalidField(field, "must not contain control characters");
  }
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view value, size_t max,
                       absl::string_view field) {
  if (value.size() > max) {
    return InvalidField(field,
                        absl::StrCat("must be at most ", max, " bytes long"));
  }
  const std::optional<unsigned char> control =
      FirstControl(value, /*allow_breaks=*/true);
  if (!control.has_value()) return absl::OkStatus();
  if (*control == 0) {
    return InvalidField(field, "must not contain NUL characters");
  }
  return InvalidField(field,
                      "must not contain control characters other than tabs "
                      "and line breaks");
}

namespace {

// The start of the UTF-8 character that holds value[i]: backs off over
// continuation bytes (10xxxxxx).
size_t CharStart(absl::string_view value, size_t i) {
  while (i > 0 && (static_cast<unsigned char>(value[i]) & 0xC0) == 0x80) --i;
  return i;
}

}  // namespace

std::string Excerpt(absl::string_view value, size_t max) {
  if (value.size() <= max) return std::string(value);
  return std::string(value.substr(0, CharStart(value, max)));
}

absl::Status CheckRequired(absl::string_view value, size_t max,
                           absl::string_view field) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return InvalidField(field, "required");
  }
  return CheckLength(value, max, field);
}

namespace {

// The code point whose UTF-8 encoding starts at value[i] (`value` is UTF-8:
// requests that are not are refused when parsed).
char32_t CodePointAt(absl::string_view value, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(value[i]);
  const int length = lead < 0x80          ? 1
                     : (lead >> 5) == 0x6 ? 2
                     : (lead >> 4) == 0xe ? 3
                                          : 4;
  char32_t code = length == 1 ? lead : lead & (0x7f >> length);
  for (int k = 1; k < length && i + k < value.size(); ++k) {
    code = (code << 6) | (static_cast<unsigned char>(value[i + k]) & 0x3f);
  }
  return code;
}

// Unicode's White_Space characters (ASCII's included), and the zero-width
// space and byte-order mark, which show as nothing at all.
bool IsSpace(char32_t c) {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200b) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 ||
         c == 0xfeff;
}

// Whether non-empty `value` begins or ends with a space (IsSpace).
bool HasSpaceAtAnEnd(absl::string_view value) {
  return IsSpace(CodePointAt(value, 0)) ||
         IsSpace(CodePointAt(value, CharStart(value, value.size() - 1)));
}

}  // namespace

absl::Status CheckExternalId(absl::string_view value, absl::string_view field) {
  if (value.empty()) return InvalidField(field, "required");
  RECURRENT_RETURN_IF_ERROR(CheckLength(value, kMaxExternalIdLength, field));
  if (HasSpaceAtAnEnd(value)) {
    return InvalidField(field, absl::StrCat("must not begin or end with "
                                            "whitespace, as in \"",
                                            Excerpt(value, 64), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckOptionalExternalId(absl::string_view value,
                                     absl::string_view field) {
  return value.empty() ? absl::OkStatus() : CheckExternalId(value, field);
}

absl::StatusOr<absl::Time> RequiredTime(bool present,
                                        const google::protobuf::Timestamp& ts,
                                        absl::string_view field) {
  if (!present) return InvalidField(field, "required");
  return TimeFromProto(ts, field);
}

absl::Status CheckId(absl::string_view value, absl::string_view prefix,
                     absl::string_view field) {
  if (value.empty()) return InvalidField(field, "required");
  if (common::HasIdShape(value, prefix)) return absl::OkStatus();
  std::string message = absl::StrCat(
      "must be an id: \"", prefix, "\" and ", common::kIdRandomChars,
      " characters of \"", common::kIdAlphabet, "\"");
  // Quoted (cut short) unless it holds what a message must not carry.
  if (!FirstControl(value, /*allow_breaks=*/false).has_value()) {
    absl::StrAppend(&message, ", not \"", Excerpt(value, 64), "\"");
  }
  return InvalidField(field, message);
}

absl::Status CheckOptionalId(absl::string_view value, absl::string_view prefix,
                             absl::string_view field) {
  return value.empty() ? absl::OkStatus() : CheckId(value, prefix, field);
}

absl::StatusOr<persistence::PageRequest> ParsePage(int page_size,
                                                   absl::string_view token) {
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  // Our tokens are short; anything longer is not one of them.
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(token, kMaxPageTokenLength, "page_token"));
  persistence::PageRequest page;
  page.page_size = page_size == 0
                       ? persistence::kDefaultPageSize
                       : std::min(page_size, persistence::kMaxPageSize);
  page.page_token = std::string(token);
  return page;
}

absl::StatusOr<absl::Time> ParseAsOf(bool has_as_of,
                                     const google::protobuf::Timestamp& as_of,
                                     absl::Time now) {
  if (!has_as_of) return now;
  return TimeFromProto(as_of, "as_of");
}

}  // namespace recurrent::service
