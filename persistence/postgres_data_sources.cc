#include "persistence/postgres_data_sources.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/keyset_page.h"
#include "persistence/page_token.h"

namespace recurrent::persistence::postgres {
namespace {

// Columns of a settings_versions row (alias s) joined with its source (alias
// d), in the order ReadSettings expects.
constexpr absl::string_view kSettingsColumns =
    "d.uuid, s.version, s.applied_at, s.saved_at, s.customers_reprocessed, "
    "s.auto_churns_reversed, s.auto_churns_applied, "
    "s.customers_status_changed, s.saved_by, s.setting_values, s.mrr_impact";

// Joins each source (alias d) with its current settings version (alias s).
constexpr absl::string_view kCurrentSettingsJoin =
    " FROM data_sources d JOIN settings_versions s"
    " ON s.data_source_id = d.id AND s.version = (SELECT MAX(version)"
    " FROM settings_versions WHERE data_source_id = d.id)";

SettingsRow ReadSettings(const Statement& stmt, int first) {
  SettingsRow settings;
  settings.data_source_uuid = stmt.ColumnText(first);
  settings.version = stmt.ColumnInt64(first + 1);
  settings.applied_at = stmt.ColumnTime(first + 2);
  settings.saved_at = stmt.ColumnTime(first + 3);
  settings.impact.customers_reprocessed = stmt.ColumnInt64(first + 4);
  settings.impact.auto_churns_reversed = stmt.ColumnInt64(first + 5);
  settings.impact.auto_churns_applied = stmt.ColumnInt64(first + 6);
  settings.impact.customers_status_changed = stmt.ColumnInt64(first + 7);
  settings.saved_by = stmt.ColumnText(first + 8);
  settings.values = stmt.ColumnText(first + 9);
  settings.mrr_impact = stmt.ColumnText(first + 10);
  return settings;
}

// Reads every row of `stmt` (kSettingsColumns from column 0).
absl::StatusOr<std::vector<SettingsRow>> ReadAllSettings(Statement& stmt) {
  std::vector<SettingsRow> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    rows.push_back(ReadSettings(stmt, 0));
  }
  return rows;
}

// A data source row followed by its current settings.
const std::string& DataSourceSelect() {
  static const std::string* const kSql =
      new std::string(absl::StrCat("SELECT d.id, d.name, d.system,"
                                   " d.created_at, ",
                                   kSettingsColumns, kCurrentSettingsJoin));
  return *kSql;
}

absl::StatusOr<DataSourceRow> ReadDataSource(const Statement& stmt) {
  DataSourceRow source;
  source.name = stmt.ColumnText(1);
  source.system = stmt.ColumnText(2);
  source.created_at = stmt.ColumnTime(3);
  source.settings = ReadSettings(stmt, 4);
  source.uuid = source.settings.data_source_uuid;
  return source;
}

}  // namespace

absl::Status DataSourceNotFound(absl::string_view uuid) {
  return common::ResourceNotFound("data_source", uuid);
}

absl::StatusOr<int64_t> FindDataSourceKey(Connection& db,
                                          absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT id FROM data_sources WHERE uuid = $1"));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return DataSourceNotFound(uuid);
  return stmt.ColumnInt64(0);
}

absl::Status InsertDataSource(Connection& db, const DataSourceRow& source) {
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO data_sources (uuid, name, system, "
                   "created_at) VALUES ($1, $2, $3, $4)"
                   " ON CONFLICT DO NOTHING"));
    insert.BindText(1, source.uuid);
    insert.BindText(2, source.name);
    insert.BindText(3, source.system);
    insert.BindTime(4, source.created_at);
    // DO NOTHING rather than a unique violation, which would abort the
    // transaction (SQLite undoes only the failed statement; callers may go
    // on after kAlreadyExists).
    RECURRENT_RETURN_IF_ERROR(insert.Run());
    if (insert.RowsAffected() == 0) {
      return common::ResourceAlreadyExists(
          absl::AlreadyExistsError(absl::StrCat(
              "data source named '", source.name, "' already exists")),
          "data_source", source.name);
    }
  }
  SettingsRow settings = source.settings;
  settings.data_source_uuid = source.uuid;
  return InsertSettingsVersion(db, settings);
}

absl::StatusOr<DataSourceRow> LoadDataSource(Connection& db,
                                             absl::string_view uuid) {
  static const std::string* const kSql =
      new std::string(absl::StrCat(DataSourceSelect(), " WHERE d.uuid = $1"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return DataSourceNotFound(uuid);
  return ReadDataSource(stmt);
}

absl::StatusOr<Page<DataSourceRow>> LoadDataSourcePage(
    Connection& db, const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const uint64_t fingerprint = QueryFingerprint("data_sources", {});
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  static const std::string* const kSql = new std::string(absl::StrCat(
      DataSourceSelect(), " WHERE d.id > $1 ORDER BY d.id LIMIT $2"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, after);
  // One extra row tells whether there is a next page.
  stmt.BindInt64(2, int64_t{page.page_size} + 1);
  return ReadKeysetPage<DataSourceRow>(stmt, page.page_size, fingerprint,
                                       ReadDataSource);
}

absl::StatusOr<std::vector<std::string>> DeleteDataSourceRows(
    Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t key, FindDataSourceKey(db, uuid));
  std::vector<std::string> survivors;
  {
    // Customers in this source and another keep living without its rows.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT c.uuid FROM customers c WHERE c.id IN"
                   " (SELECT customer_id FROM customer_external_ids"
                   " WHERE data_source_id = $1)"
                   " AND EXISTS (SELECT 1 FROM customer_external_ids e"
                   " WHERE e.customer_id = c.id AND e.data_source_id <> $1)"
                   " ORDER BY c.id"));
    stmt.BindInt64(1, key);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      survivors.push_back(stmt.ColumnText(0));
    }
  }
  {
    // Customers whose every external id is in this source go with it (and
    // everything they own, by cascade).
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("DELETE FROM customers WHERE id IN (SELECT customer_id"
                   " FROM customer_external_ids WHERE data_source_id = $1)"
                   " AND NOT EXISTS (SELECT 1 FROM customer_external_ids e"
                   " WHERE e.customer_id = customers.id"
                   " AND e.data_source_id <> $1)"));
    stmt.BindInt64(1, key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  // Cascades to settings_versions, the remaining customers' external ids in
  // this source (their next external id becomes primary), and the source's
  // invoices (line items, transactions) and subscriptions (cancellations,
  // events).
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM data_sources WHERE id = $1"));
  stmt.BindInt64(1, key);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  return survivors;
}

absl::StatusOr<std::vector<SettingsRow>> LoadSettingsHistory(
    Connection& db, absl::string_view uuid) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kSettingsColumns,
                   " FROM data_sources d JOIN settings_versions s"
                   " ON s.data_source_id = d.id WHERE d.uuid = $1"
                   " ORDER BY s.version"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<SettingsRow> history,
                             ReadAllSettings(stmt));
  // Every source has version 1, so no rows means no source.
  if (history.empty()) return DataSourceNotFound(uuid);
  return history;
}

absl::StatusOr<std::vector<SettingsRow>> LoadAllCurrentSettings(
    Connection& db) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kSettingsColumns, kCurrentSettingsJoin, " ORDER BY d.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  return ReadAllSettings(stmt);
}

absl::StatusOr<std::vector<SettingsRow>> LoadCustomerSettings(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kSettingsColumns, kCurrentSettingsJoin,
      " WHERE d.id IN (SELECT data_source_id"
      " FROM customer_external_ids WHERE customer_id = $1"
      " UNION SELECT data_source_id FROM invoices WHERE customer_id = $1)"
      " ORDER BY d.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  return ReadAllSettings(stmt);
}

absl::StatusOr<std::vector<SettingsRow>> LoadSettingsOfSources(
    Connection& db, absl::Span<const std::string> source_uuids) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kSettingsColumns, kCurrentSettingsJoin,
      " WHERE d.uuid = ANY($1::text[]) ORDER BY d.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindTextArray(1, source_uuids);
  return ReadAllSettings(stmt);
}

absl::Status InsertSettingsVersion(Connection& db,
                                   const SettingsRow& settings) {
  // The values of an INSERT ... SELECT need their types spelled out: the
  // server cannot infer a select list's parameter types from the columns.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO settings_versions (data_source_id, version,"
                 " applied_at, saved_at, customers_reprocessed,"
                 " auto_churns_reversed, auto_churns_applied,"
                 " customers_status_changed, saved_by, setting_values,"
                 " mrr_impact)"
                 " SELECT id, $2::bigint, $3::bigint, $4::bigint, $5::bigint,"
                 " $6::bigint, $7::bigint, $8::bigint, $9::text, $10::text,"
                 " $11::text"
                 " FROM data_sources WHERE uuid = $1"
                 " ON CONFLICT DO NOTHING"));
  stmt.BindText(1, settings.data_source_uuid);
  stmt.BindInt64(2, settings.version);
  stmt.BindTime(3, settings.applied_at);
  stmt.BindTime(4, settings.saved_at);
  stmt.BindInt64(5, settings.impact.customers_reprocessed);
  stmt.BindInt64(6, settings.impact.auto_churns_reversed);
  stmt.BindInt64(7, settings.impact.auto_churns_applied);
  stmt.BindInt64(8, settings.impact.customers_status_changed);
  stmt.BindText(9, settings.saved_by);
  stmt.BindText(10, settings.values);
  stmt.BindText(11, settings.mrr_impact);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (stmt.RowsAffected() == 1) return absl::OkStatus();
  // Nothing inserted: the source is absent, or the version exists.
  RECURRENT_RETURN_IF_ERROR(
      FindDataSourceKey(db, settings.data_source_uuid).status());
  return common::ResourceAlreadyExists(
      absl::AlreadyExistsError(absl::StrCat(
          "settings version ", settings.version, " of data source ",
          settings.data_source_uuid, " already exists")),
      "settings_version", absl::StrCat(settings.version));
}

}  // namespace recurrent::persistence::postgres
