// Parsing of SourceSettingsService requests: each Parse* function checks a
// request completely and returns the typed values the handler needs, or an
// INVALID_ARGUMENT status naming the offending field (InvalidField,
// service/errors.h). Handlers parse before calling the core, so a rejected
// request changes nothing.
#ifndef RECURRENT_SERVICE_SOURCE_SETTINGS_REQUESTS_H_
#define RECURRENT_SERVICE_SOURCE_SETTINGS_REQUESTS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/settings.h"
#include "recurrent/v1/source_settings.pb.h"

namespace recurrent::service {

struct NewDataSource {
  std::string name;
  std::string system;
};
absl::StatusOr<NewDataSource> ParseCreateDataSource(
    const v1::CreateDataSourceRequest& request);

struct SettingsChange {
  core::PastDueHandling past_due_handling;
  std::optional<absl::Time> effective_at;  // unset: now
  bool dry_run = false;
  bool list_changes = false;
};
// `now` bounds `effective_at` (never in the future).
absl::StatusOr<SettingsChange> ParseUpdateSettings(
    const v1::UpdateSettingsRequest& request, absl::Time now);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_SOURCE_SETTINGS_REQUESTS_H_
