// Per-source settings: one versioned record per source.
//
// A version holds every setting of the source (today its past-due handling)
// with the instant it applies from and what saving it did. Backends store
// the setting values as one opaque record (EncodeSettingsValues), so a new
// setting is a field here, in the engine and in the API, and no schema
// change.
#ifndef RECURRENT_CORE_SETTINGS_H_
#define RECURRENT_CORE_SETTINGS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/settings.h"
#include "persistence/records.h"

namespace recurrent::core {

using PastDueMode = engine::PastDueMode;
using SettingsImpact = persistence::SettingsImpact;

struct PastDueHandling {
  PastDueMode mode = PastDueMode::kKeep;
  // engine::kMinAutoChurnAfterDays..kMaxAutoChurnAfterDays with kAutoChurn,
  // 0 with kKeep.
  int auto_churn_after_days = 0;

  friend bool operator==(const PastDueHandling& a, const PastDueHandling& b) {
    return a.mode == b.mode &&
           a.auto_churn_after_days == b.auto_churn_after_days;
  }
};

// One version of a source's settings.
//
// Its impact: an auto-churn is an AUTO_CHURNED event (subscription, instant)
// at or before `now`; "reversed" ones are present before and gone after,
// "applied" ones are new. "After" is the engine's evaluation at `now` of the
// stored facts under the settings in force after the call. "Before" is, for
// a settings change (and its dry run), the evaluation at `now` of the same
// facts under the settings in force before it (so a preview counts only
// what the change does), and for a reprocess the stored state (the stored
// AUTO_CHURNED events at or before `now` and the stored customer status).
struct SourceSettings {
  std::string data_source_uuid;
  PastDueHandling past_due_handling;
  int64_t version = 0;    // 1 for a new source, +1 per saved change
  absl::Time applied_at;  // in force from this instant
  absl::Time saved_at;    // when this version was written
  SettingsImpact impact;  // what saving it did (zero for version 1)
  // The API key name of who saved it; empty for version 1 and for changes
  // made without authentication.
  std::string saved_by;
};

struct DataSource {
  std::string uuid;  // "ds_…"
  std::string name;  // unique
  std::string system;
  absl::Time created_at;
  SourceSettings settings;  // the current version
};

// The content of a new version, as UpdateSettings' `decide` returns it.
struct NewSettings {
  PastDueHandling past_due_handling;
  absl::Time applied_at;
  std::string saved_by;  // an API key name; may be empty
};
// Given the current settings, returns the new version's content, nullopt to
// change nothing, or an error to abort (returned as is).
using SettingsDecision =
    std::function<absl::StatusOr<std::optional<NewSettings>>(
        const SourceSettings& current)>;

// The setting values of `settings` as one record ("key=value" lines), and
// back. Decoding fails with kInternal on a record this build cannot read.
std::string EncodeSettingsValues(const SourceSettings& settings);
absl::Status DecodeSettingsValues(absl::string_view values,
                                  SourceSettings& settings);

// The MRR amounts of an impact (mrr_change, churned_mrr) as one record
// ("mrr_change EUR 1200" and "churned_mrr EUR 4900" lines; '' for none), and
// back into `impact`. Decoding fails with kInternal on a record this build
// cannot read.
std::string EncodeMrrImpact(const SettingsImpact& impact);
absl::Status DecodeMrrImpact(absl::string_view record, SettingsImpact& impact);

persistence::SettingsRow ToRow(const SourceSettings& settings);
absl::StatusOr<SourceSettings> FromRow(const persistence::SettingsRow& row);
absl::StatusOr<DataSource> FromRow(const persistence::DataSourceRow& row);

// The engine's view of a version.
engine::SourceSettings ToEngine(const SourceSettings& settings);
// The engine's view of the current versions `rows` (one per source).
absl::StatusOr<engine::SettingsMap> ToSettingsMap(
    absl::Span<const persistence::SettingsRow> rows);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_SETTINGS_H_
