// Row-level operations on data sources and their settings versions.
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors
// (kNotFound naming the source, kAlreadyExists naming the name).
#ifndef RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_
#define RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/strings/string_view.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// kNotFound ("data source ds_x not found").
absl::Status DataSourceNotFound(absl::string_view uuid);

// The integer key of the source `uuid`. kNotFound if absent.
absl::StatusOr<int64_t> FindDataSourceKey(Connection& db,
                                          absl::string_view uuid);

// Inserts the source `source` (uuid, name, system, created_at) and its
// settings version `source.settings` (stored for `source.uuid`).
// kAlreadyExists if the name is taken.
absl::Status InsertDataSource(Connection& db, const DataSourceRow& source);

// The source with its current settings. kNotFound if absent.
absl::StatusOr<DataSourceRow> LoadDataSource(Connection& db,
                                             absl::string_view uuid);

absl::StatusOr<Page<DataSourceRow>> LoadDataSourcePage(Connection& db,
                                                       const PageRequest& page);

// Deletes the source as Backend::DeleteDataSource documents and returns the
// uuids of the customers that had an external id in it and remain, in key
// order. kNotFound if absent.
absl::StatusOr<std::vector<std::string>> DeleteDataSourceRows(
    Connection& db, absl::string_view uuid);

// Every version of the source, oldest first. kNotFound if absent.
absl::StatusOr<std::vector<SettingsRow>> LoadSettingsHistory(
    Connection& db, absl::string_view uuid);

// The current version of every source, in source creation order.
absl::StatusOr<std::vector<SettingsRow>> LoadAllCurrentSettings(Connection& db);

// The current version of every source the customer `customer_key` has an
// external id or an invoice in.
absl::StatusOr<std::vector<SettingsRow>> LoadCustomerSettings(
    Connection& db, int64_t customer_key);
// The same for a customer whose sources are known (`source_uuids`, e.g.
// from its facts blob), in source creation order; absent sources are
// skipped.
absl::StatusOr<std::vector<SettingsRow>> LoadSettingsOfSources(
    Connection& db, absl::Span<const std::string> source_uuids);

// Inserts `settings` (its version included) for its source. kNotFound if the
// source is absent; kAlreadyExists if the version is stored already.
absl::Status InsertSettingsVersion(Connection& db, const SettingsRow& settings);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_DATA_SOURCES_H_
