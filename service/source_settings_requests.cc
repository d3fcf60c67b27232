// Parsing of SourceSettingsService requests.
#include "service/source_settings_requests.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "engine/settings.h"
#include "service/convert.h"
#include "service/errors.h"
#include "service/field_checks.h"

namespace recurrent::service {

absl::StatusOr<NewDataSource> ParseCreateDataSource(
    const v1::CreateDataSourceRequest& request) {
  RECURRENT_RETURN_IF_ERROR(
      CheckRequired(request.name(), kMaxNameLength, "name"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.system(), kMaxNameLength, "system"));
  NewDataSource source;
  source.name = std::string(absl::StripAsciiWhitespace(request.name()));
  source.system = std::string(absl::StripAsciiWhitespace(request.system()));
  if (source.system.empty()) source.system = "custom";
  return source;
}

absl::StatusOr<SettingsChange> ParseUpdateSettings(
    const v1::UpdateSettingsRequest& request, absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(CheckId(request.data_source_uuid(),
                                    common::kDataSourceIdPrefix,
                                    "data_source_uuid"));
  if (!request.has_past_due_handling()) {
    return InvalidField("past_due_handling", "required");
  }
  const v1::PastDueHandling& handling = request.past_due_handling();
  SettingsChange change;
  change.dry_run = request.dry_run();
  change.list_changes = request.list_changes();
  const int days = handling.auto_churn_after_days();
  switch (handling.mode()) {
    case v1::PAST_DUE_MODE_KEEP:
      if (days != 0) {
        return InvalidField("past_due_handling.auto_churn_after_days",
                            "must be 0 with PAST_DUE_MODE_KEEP");
      }
      change.past_due_handling = {core::PastDueMode::kKeep, 0};
      break;
    case v1::PAST_DUE_MODE_AUTO_CHURN:
      if (days < engine::kMinAutoChurnAfterDays ||
          days > engine::kMaxAutoChurnAfterDays) {
        return InvalidField(
            "past_due_handling.auto_churn_after_days",
            absl::StrCat("must be between ", engine::kMinAutoChurnAfterDays,
                         " and ", engine::kMaxAutoChurnAfterDays,
                         " with PAST_DUE_MODE_AUTO_CHURN, got ", days));
      }
      change.past_due_handling = {core::PastDueMode::kAutoChurn, days};
      break;
    case v1::PAST_DUE_MODE_UNSPECIFIED:
      return InvalidField("past_due_handling.mode",
                          "required: PAST_DUE_MODE_KEEP or "
                          "PAST_DUE_MODE_AUTO_CHURN");
    default:
      return InvalidField("past_due_handling.mode", "unknown mode");
  }
  if (request.has_effective_at()) {
    RECURRENT_ASSIGN_OR_RETURN(
        absl::Time effective_at,
        TimeFromProto(request.effective_at(), "effective_at"));
    if (effective_at > now) {
      return InvalidField("effective_at", "must not be in the future");
    }
    change.effective_at = effective_at;
  }
  return change;
}

}  // namespace recurrent::service
