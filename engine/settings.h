// Per-data-source past-due handling settings (R6).
#ifndef RECURRENT_ENGINE_SETTINGS_H_
#define RECURRENT_ENGINE_SETTINGS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace recurrent::engine {

enum class PastDueMode {
  // Past-due subscriptions stay PAST_DUE until explicitly cancelled (the
  // default for a new source).
  kKeep,
  // Past-due subscriptions auto-churn after `auto_churn_after_days` (R6).
  kAutoChurn,
};

// The smallest and largest accepted `auto_churn_after_days` for kAutoChurn.
inline constexpr int kMinAutoChurnAfterDays = 1;
inline constexpr int kMaxAutoChurnAfterDays = 90;

// The current settings of one data source.
struct SourceSettings {
  PastDueMode mode = PastDueMode::kKeep;
  // Days (of 86,400 s) past due before an auto-churn; used with kAutoChurn
  // only, and then in [kMinAutoChurnAfterDays, kMaxAutoChurnAfterDays].
  int auto_churn_after_days = 0;
  // When these settings took effect. A past-due stretch that had already
  // ended at or before this instant never auto-churns (R6 b).
  absl::Time applied_at = absl::InfinitePast();
};

// Settings by data source uuid. A source missing from the map has the
// default SourceSettings (KEEP).
using SettingsMap = absl::flat_hash_map<std::string, SourceSettings>;

// Returns the settings of `data_source_uuid` in `settings`, or the default
// SourceSettings if it has none.
const SourceSettings& SettingsFor(const SettingsMap& settings,
                                  absl::string_view data_source_uuid);

// Returns OK if `settings` are usable, otherwise kInvalidArgument naming the
// field: kAutoChurn needs auto_churn_after_days in [1, 90]; applied_at must
// not be InfiniteFuture.
absl::Status ValidateSourceSettings(const SourceSettings& settings);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_SETTINGS_H_
