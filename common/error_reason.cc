#include "common/error_reason.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace recurrent::common {
namespace {

constexpr absl::string_view kFieldPayloadUrl =
    "type.googleapis.com/recurrent.v1.FieldViolation";

constexpr absl::string_view kReasonUrl = "recurrent/error_reason";
// One payload per metadata key: this prefix, then the key.
constexpr absl::string_view kMetadataUrlPrefix = "recurrent/error_metadata/";

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        const ReasonMetadata& metadata) {
  if (status.ok()) return status;
  std::vector<std::string> stale;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord&) {
    if (absl::StartsWith(url, kMetadataUrlPrefix)) stale.emplace_back(url);
  });
  for (const std::string& url : stale) status.ErasePayload(url);
  status.SetPayload(kReasonUrl, absl::Cord(reason));
  for (const auto& [key, value] : metadata) {
    status.SetPayload(absl::StrCat(kMetadataUrlPrefix, key), absl::Cord(value));
  }
  return status;
}

absl::Status ResourceNotFound(absl::string_view resource_type,
                              absl::string_view id) {
  const std::string spelled =
      resource_type == "api_key"
          ? std::string("API key")
          : absl::StrReplaceAll(resource_type, {{"_", " "}});
  return WithReason(
      absl::NotFoundError(absl::StrCat(spelled, " ", id, " not found")),
      reason::kResourceNotFound,
      {{"resource_type", std::string(resource_type)},
       {"resource_id", std::string(id)}});
}

absl::Status ResourceAlreadyExists(absl::Status status,
                                   absl::string_view resource_type,
                                   absl::string_view id) {
  return WithReason(std::move(status), reason::kResourceAlreadyExists,
                    {{"resource_type", std::string(resource_type)},
                     {"resource_id", std::string(id)}});
}

absl::Status InvalidField(absl::string_view field, absl::string_view problem) {
  absl::Status status = WithReason(
      absl::InvalidArgumentError(absl::StrCat(field, ": ", problem)),
      reason::kInvalidField, {{"field", std::string(field)}});
  status.SetPayload(kFieldPayloadUrl, absl::Cord(field));
  return status;
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kFieldPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

std::optional<std::string> ReasonOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kReasonUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

bool HasReason(const absl::Status& status, absl::string_view reason) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kReasonUrl);
  return payload.has_value() && *payload == reason;
}

std::map<std::string, std::string> ReasonMetadataOf(
    const absl::Status& status) {
  std::map<std::string, std::string> metadata;
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    if (absl::ConsumePrefix(&url, kMetadataUrlPrefix)) {
      metadata.emplace(std::string(url), std::string(value));
    }
  });
  return metadata;
}

}  // namespace recurrent::common
