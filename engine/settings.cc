#include "engine/settings.h"

#include "absl/strings/str_format.h"

namespace recurrent::engine {

const SourceSettings& SettingsFor(const SettingsMap& settings,
                                  absl::string_view data_source_uuid) {
  static const SourceSettings kDefault;
  auto it = settings.find(data_source_uuid);
  return it == settings.end() ? kDefault : it->second;
}

absl::Status ValidateSourceSettings(const SourceSettings& settings) {
  if (settings.mode == PastDueMode::kAutoChurn &&
      (settings.auto_churn_after_days < kMinAutoChurnAfterDays ||
       settings.auto_churn_after_days > kMaxAutoChurnAfterDays)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "auto_churn_after_days must be in [%d, %d] for AUTO_CHURN, got %d",
        kMinAutoChurnAfterDays, kMaxAutoChurnAfterDays,
        settings.auto_churn_after_days));
  }
  if (settings.applied_at == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(
        "applied_at must not be in the infinite "
        "future");
  }
  return absl::OkStatus();
}

}  // namespace recurrent::engine
