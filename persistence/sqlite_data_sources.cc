#include "persistence/sqlite_data_sources.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "persistence/page_token.h"
#include "persistence/sqlite_codes.h"
#include "persistence/sqlite_page.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence::sqlite {
namespace {

absl::Status DataSourceNotFound(absl::string_view uuid) {
  return absl::NotFoundError(absl::StrCat("data source ", uuid, " not found"));
}

// Columns of a settings_versions row joined with its source, in the order
// ReadSettings expects.
constexpr absl::string_view kSettingsColumns =
    "d.uuid, s.version, s.past_due_mode, s.auto_churn_after_days, "
    "s.applied_at, s.saved_at, s.customers_reprocessed, "
    "s.auto_churns_reversed, s.auto_churns_applied, "
    "s.customers_status_changed, s.saved_by";

absl::StatusOr<SourceSettings> ReadSettings(const Statement& stmt, int first) {
  SourceSettings settings;
  settings.data_source_uuid = stmt.ColumnText(first);
  settings.version = stmt.ColumnInt64(first + 1);
  RECURRENT_ASSIGN_OR_RETURN(settings.past_due_handling.mode,
                             PastDueModeFromCode(stmt.ColumnInt64(first + 2)));
  settings.past_due_handling.auto_churn_after_days =
      static_cast<int>(stmt.ColumnInt64(first + 3));
  settings.applied_at = stmt.ColumnTime(first + 4);
  settings.saved_at = stmt.ColumnTime(first + 5);
  settings.impact.customers_reprocessed = stmt.ColumnInt64(first + 6);
  settings.impact.auto_churns_reversed = stmt.ColumnInt64(first + 7);
  settings.impact.auto_churns_applied = stmt.ColumnInt64(first + 8);
  settings.impact.customers_status_changed = stmt.ColumnInt64(first + 9);
  settings.saved_by = stmt.ColumnText(first + 10);
  return settings;
}

// A data source row followed by its current settings.
const std::string& DataSourceSelect() {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT d.id, d.name, d.system, d.created_at, ", kSettingsColumns,
      " FROM data_sources d JOIN settings_versions s"
      " ON s.data_source_id = d.id AND s.version = (SELECT MAX(version)"
      " FROM settings_versions WHERE data_source_id = d.id)"));
  return *kSql;
}

absl::StatusOr<DataSource> ReadDataSource(const Statement& stmt) {
  DataSource source;
  source.name = stmt.ColumnText(1);
  source.system = stmt.ColumnText(2);
  source.created_at = stmt.ColumnTime(3);
  RECURRENT_ASSIGN_OR_RETURN(source.settings, ReadSettings(stmt, 4));
  source.uuid = source.settings.data_source_uuid;
  return source;
}

}  // namespace

absl::StatusOr<int64_t> FindDataSourceKey(Connection& db,
                                          absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("SELECT id FROM data_sources WHERE uuid = ?"));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return DataSourceNotFound(uuid);
  return stmt.ColumnInt64(0);
}

absl::StatusOr<DataSource> InsertDataSource(Connection& db,
                                            absl::string_view name,
                                            absl::string_view system,
                                            absl::Time now) {
  const std::string uuid = common::NewId(common::kDataSourceIdPrefix);
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO data_sources (uuid, name, system, "
                   "created_at) VALUES (?, ?, ?, ?)"));
    insert.BindText(1, uuid);
    insert.BindText(2, name);
    insert.BindText(3, system);
    insert.BindTime(4, now);
    if (absl::Status status = insert.Run(); !status.ok()) {
      if (IsUniqueViolation(status)) {
        return absl::AlreadyExistsError(
            absl::StrCat("data source named '", name, "' already exists"));
      }
      return status;
    }
  }
  SourceSettings settings;
  settings.data_source_uuid = uuid;
  settings.version = 1;
  settings.applied_at = now;
  settings.saved_at = now;
  RECURRENT_RETURN_IF_ERROR(InsertSettingsVersion(db, settings));

  DataSource source;
  source.uuid = uuid;
  source.name = std::string(name);
  source.system = std::string(system);
  source.created_at = now;
  source.settings = std::move(settings);
  return source;
}

absl::StatusOr<DataSource> LoadDataSource(Connection& db,
                                          absl::string_view uuid) {
  static const std::string* const kSql =
      new std::string(absl::StrCat(DataSourceSelect(), " WHERE d.uuid = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return DataSourceNotFound(uuid);
  return ReadDataSource(stmt);
}

absl::StatusOr<Page<DataSource>> LoadDataSourcePage(Connection& db,
                                                    const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const uint64_t fingerprint = QueryFingerprint("data_sources", {});
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  static const std::string* const kSql = new std::string(absl::StrCat(
      DataSourceSelect(), " WHERE d.id > ? ORDER BY d.id LIMIT ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, after);
  // One extra row tells whether there is a next page.
  stmt.BindInt64(2, int64_t{page.page_size} + 1);
  return ReadKeysetPage<DataSource>(stmt, page.page_size, fingerprint,
                                    ReadDataSource);
}

absl::StatusOr<std::vector<int64_t>> DeleteDataSourceRows(
    Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t key, FindDataSourceKey(db, uuid));
  std::vector<int64_t> survivors;
  {
    // Customers in this source and another keep living without its facts.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT DISTINCT customer_id FROM customer_external_ids"
                   " WHERE data_source_id = ?1 AND customer_id IN"
                   " (SELECT customer_id FROM customer_external_ids"
                   " WHERE data_source_id <> ?1) ORDER BY customer_id"));
    stmt.BindInt64(1, key);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      survivors.push_back(stmt.ColumnInt64(0));
    }
  }
  {
    // Customers whose every external id is in this source go with it (and
    // everything they own, by cascade).
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("DELETE FROM customers WHERE id IN (SELECT customer_id"
                   " FROM customer_external_ids WHERE data_source_id = ?1)"
                   " AND NOT EXISTS (SELECT 1 FROM customer_external_ids e"
                   " WHERE e.customer_id = customers.id"
                   " AND e.data_source_id <> ?1)"));
    stmt.BindInt64(1, key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  // Cascades to settings_versions, the remaining customers' external ids in
  // this source (their next external id becomes primary), and the source's
  // invoices (line items, transactions) and subscriptions (cancellations,
  // events).
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM data_sources WHERE id = ?"));
  stmt.BindInt64(1, key);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  return survivors;
}

absl::StatusOr<SourceSettings> LoadCurrentSettings(Connection& db,
                                                   absl::string_view uuid) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kSettingsColumns,
                   " FROM data_sources d JOIN settings_versions s"
                   " ON s.data_source_id = d.id WHERE d.uuid = ?"
                   " ORDER BY s.version DESC LIMIT 1"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return DataSourceNotFound(uuid);
  return ReadSettings(stmt, 0);
}

absl::StatusOr<std::vector<SourceSettings>> LoadSettingsHistory(
    Connection& db, absl::string_view uuid) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kSettingsColumns,
                   " FROM data_sources d JOIN settings_versions s"
                   " ON s.data_source_id = d.id WHERE d.uuid = ?"
                   " ORDER BY s.version"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  std::vector<SourceSettings> history;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    RECURRENT_ASSIGN_OR_RETURN(SourceSettings settings, ReadSettings(stmt, 0));
    history.push_back(std::move(settings));
  }
  // Every source has version 1, so no rows means no source.
  if (history.empty()) return DataSourceNotFound(uuid);
  return history;
}

absl::StatusOr<engine::SettingsMap> LoadAllCurrentSettings(Connection& db) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.uuid, s.past_due_mode, s.auto_churn_after_days,"
                 " s.applied_at FROM data_sources d"
                 " JOIN settings_versions s ON s.data_source_id = d.id"
                 " AND s.version = (SELECT MAX(version) FROM settings_versions"
                 " WHERE data_source_id = d.id)"));
  return ReadSettingsMap(stmt);
}

absl::StatusOr<engine::SettingsMap> ReadSettingsMap(Statement& stmt) {
  engine::SettingsMap settings;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    engine::SourceSettings& source = settings[stmt.ColumnText(0)];
    RECURRENT_ASSIGN_OR_RETURN(source.mode,
                               PastDueModeFromCode(stmt.ColumnInt64(1)));
    source.auto_churn_after_days = static_cast<int>(stmt.ColumnInt64(2));
    source.applied_at = stmt.ColumnTime(3);
  }
  return settings;
}

absl::Status InsertSettingsVersion(Connection& db,
                                   const SourceSettings& settings) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO settings_versions (data_source_id, version,"
                 " past_due_mode, auto_churn_after_days, applied_at, saved_at,"
                 " customers_reprocessed, auto_churns_reversed,"
                 " auto_churns_applied, customers_status_changed, saved_by)"
                 " SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11"
                 " FROM data_sources WHERE uuid = ?1"));
  stmt.BindText(1, settings.data_source_uuid);
  stmt.BindInt64(2, settings.version);
  stmt.BindInt64(3, PastDueModeCode(settings.past_due_handling.mode));
  stmt.BindInt64(4, settings.past_due_handling.auto_churn_after_days);
  stmt.BindTime(5, settings.applied_at);
  stmt.BindTime(6, settings.saved_at);
  stmt.BindInt64(7, settings.impact.customers_reprocessed);
  stmt.BindInt64(8, settings.impact.auto_churns_reversed);
  stmt.BindInt64(9, settings.impact.auto_churns_applied);
  stmt.BindInt64(10, settings.impact.customers_status_changed);
  stmt.BindText(11, settings.saved_by);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (db.Changes() != 1) return DataSourceNotFound(settings.data_source_uuid);
  return absl::OkStatus();
}

}  // namespace recurrent::persistence::sqlite
