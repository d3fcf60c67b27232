// Row-level operations on data sources and their settings versions.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors
// (kNotFound naming the source, kAlreadyExists naming the name).
#ifndef RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_
#define RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/settings.h"
#include "persistence/sqlite_connection.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// The integer key of the source `uuid`. kNotFound if absent.
absl::StatusOr<int64_t> FindDataSourceKey(Connection& db,
                                          absl::string_view uuid);

// Inserts a source and its settings version 1; returns it.
absl::StatusOr<DataSource> InsertDataSource(Connection& db,
                                            absl::string_view name,
                                            absl::string_view system,
                                            absl::Time now);

absl::StatusOr<DataSource> LoadDataSource(Connection& db,
                                          absl::string_view uuid);

absl::StatusOr<Page<DataSource>> LoadDataSourcePage(Connection& db,
                                                    const PageRequest& page);

// Deletes the source as DeleteDataSource documents and returns the keys of
// the surviving customers that had an external id in it (to recompute).
absl::StatusOr<std::vector<int64_t>> DeleteDataSourceRows(
    Connection& db, absl::string_view uuid);

absl::StatusOr<SourceSettings> LoadCurrentSettings(Connection& db,
                                                   absl::string_view uuid);

absl::StatusOr<std::vector<SourceSettings>> LoadSettingsHistory(
    Connection& db, absl::string_view uuid);

// The current settings of every source, as the engine takes them.
absl::StatusOr<engine::SettingsMap> LoadAllCurrentSettings(Connection& db);

// Reads every row of `stmt`, whose columns are (data source uuid,
// past_due_mode code, auto_churn_after_days, applied_at), into a SettingsMap.
absl::StatusOr<engine::SettingsMap> ReadSettingsMap(Statement& stmt);

// Inserts `settings` (its version included) for the source `uuid`.
absl::Status InsertSettingsVersion(Connection& db,
                                   const SourceSettings& settings);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_
