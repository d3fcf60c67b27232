#include "persistence/sqlite_api_key_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "persistence/keyset_page.h"
#include "persistence/page_token.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_file_watch.h"
#include "persistence/sqlite_scoped_transaction.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence {

using sqlite::Connection;
using sqlite::Statement;

namespace {

// The first schema version with the api_keys and audit_log tables.
constexpr int64_t kKeysSchemaVersion = 4;

constexpr absl::string_view kKeyColumns =
    "id, uuid, name, role, secret_sha256, created_at, revoked_at";

// Stable codes of api_keys.role.
absl::StatusOr<ApiKeyRole> RoleFromCode(int64_t code) {
  switch (code) {
    case 1:
      return ApiKeyRole::kReader;
    case 2:
      return ApiKeyRole::kWriter;
    case 3:
      return ApiKeyRole::kAdmin;
    default:
      return absl::InternalError(absl::StrCat("unknown api key role ", code));
  }
}

int64_t RoleCode(ApiKeyRole role) {
  switch (role) {
    case ApiKeyRole::kReader:
      return 1;
    case ApiKeyRole::kWriter:
      return 2;
    case ApiKeyRole::kAdmin:
      return 3;
  }
  return 0;  // unreachable: every role is handled above
}

// Reads a row of kKeyColumns.
absl::StatusOr<ApiKey> ReadKey(const Statement& stmt) {
  ApiKey key;
  key.uuid = stmt.ColumnText(1);
  key.name = stmt.ColumnText(2);
  RECURRENT_ASSIGN_OR_RETURN(key.role, RoleFromCode(stmt.ColumnInt64(3)));
  key.secret_sha256 = stmt.ColumnText(4);
  key.created_at = stmt.ColumnTime(5);
  key.revoked_at = stmt.ColumnOptionalTime(6);
  return key;
}

absl::StatusOr<ApiKey> LoadKey(Connection& db, absl::string_view uuid) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kKeyColumns, " FROM api_keys WHERE uuid = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) {
    return common::ResourceNotFound("api_key", uuid);
  }
  return ReadKey(stmt);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteApiKeyStore>> SqliteApiKeyStore::Open(
    const std::string& path, const Options& options) {
  // Never creates the file (SqliteBackend::Open has).
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> db,
      Connection::Open(path,
                       options.read_only ? Connection::ReadOnlyModeFor(path)
                                         : Connection::Mode::kReadWrite,
                       options.busy_timeout));
  if (!options.read_only) {
    // Key changes are acknowledged only once durable, like every other
    // write.
    RECURRENT_RETURN_IF_ERROR(db->Execute("PRAGMA synchronous = FULL"));
  }
  RECURRENT_ASSIGN_OR_RETURN(const int64_t version,
                             db->QueryInt64("PRAGMA user_version"));
  if (version < kKeysSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " has schema version ", version,
                     "; open it with SqliteBackend first"));
  }
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::FileWatch> watch,
                             sqlite::FileWatch::Start(path));
  return std::unique_ptr<SqliteApiKeyStore>(
      new SqliteApiKeyStore(std::move(db), std::move(watch)));
}

SqliteApiKeyStore::SqliteApiKeyStore(std::unique_ptr<Connection> db,
                                     std::unique_ptr<sqlite::FileWatch> watch)
    : db_(std::move(db)), watch_(std::move(watch)) {}

SqliteApiKeyStore::~SqliteApiKeyStore() = default;

absl::StatusOr<ApiKey> SqliteApiKeyStore::CreateApiKey(
    absl::string_view name, ApiKeyRole role, absl::string_view secret_sha256,
    absl::Time now, Creation creation) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::ScopedTransaction txn(*db_);
  RECURRENT_RETURN_IF_ERROR(
      txn.Begin(sqlite::ScopedTransaction::Kind::kImmediate));
  if (creation == Creation::kFirstOnly) {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement count, db_->Prepare("SELECT EXISTS (SELECT 1 FROM api_keys)"));
    RECURRENT_ASSIGN_OR_RETURN(bool row, count.Step());
    if (row && count.ColumnInt64(0) != 0) {
      return common::WithReason(
          absl::UnauthenticatedError("an API key exists now; this call needs "
                                     "one (authorization: Bearer "
                                     "rk_…)"),
          common::reason::kApiKeyMissing);
    }
  }
  const std::string uuid = common::NewId(common::kApiKeyIdPrefix);
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db_->Prepare("INSERT INTO api_keys (uuid, name, role, secret_sha256,"
                     " created_at) VALUES (?, ?, ?, ?, ?)"));
    stmt.BindText(1, uuid);
    stmt.BindText(2, name);
    stmt.BindInt64(3, RoleCode(role));
    stmt.BindText(4, secret_sha256);
    stmt.BindTime(5, now);
    absl::Status inserted = stmt.Run();
    if (sqlite::IsUniqueViolation(inserted)) {
      return common::ResourceAlreadyExists(
          absl::AlreadyExistsError(
              absl::StrCat("an API key named \"", name, "\" already exists")),
          "api_key", name);
    }
    RECURRENT_RETURN_IF_ERROR(inserted);
  }
  RECURRENT_ASSIGN_OR_RETURN(ApiKey key, LoadKey(*db_, uuid));
  RECURRENT_RETURN_IF_ERROR(watch_->Check());
  RECURRENT_RETURN_IF_ERROR(txn.Commit());
  return key;
}

absl::StatusOr<Page<ApiKey>> SqliteApiKeyStore::ListApiKeys(
    const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const uint64_t fingerprint = QueryFingerprint("api_keys", {});
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::ScopedTransaction txn(*db_);
  RECURRENT_RETURN_IF_ERROR(
      txn.Begin(sqlite::ScopedTransaction::Kind::kDeferred));
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kKeyColumns,
                   " FROM api_keys WHERE id > ? ORDER BY id LIMIT ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(*kSql));
  stmt.BindInt64(1, after);
  // One extra row tells whether there is a next page.
  stmt.BindInt64(2, int64_t{page.page_size} + 1);
  return ReadKeysetPage<ApiKey>(stmt, page.page_size, fingerprint,
                                        ReadKey);
}

absl::StatusOr<std::vector<ApiKey>> SqliteApiKeyStore::LoadAllApiKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::ScopedTransaction txn(*db_);
  RECURRENT_RETURN_IF_ERROR(
      txn.Begin(sqlite::ScopedTransaction::Kind::kDeferred));
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kKeyColumns, " FROM api_keys ORDER BY id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(*kSql));
  std::vector<ApiKey> keys;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    RECURRENT_ASSIGN_OR_RETURN(ApiKey key, ReadKey(stmt));
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<ApiKey> SqliteApiKeyStore::RevokeApiKey(absl::string_view uuid,
                                                       absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::ScopedTransaction txn(*db_);
  RECURRENT_RETURN_IF_ERROR(
      txn.Begin(sqlite::ScopedTransaction::Kind::kImmediate));
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt, db_->Prepare("UPDATE api_keys SET revoked_at = ?"
                                     " WHERE uuid = ? AND revoked_at IS NULL"));
    stmt.BindTime(1, now);
    stmt.BindText(2, uuid);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_ASSIGN_OR_RETURN(ApiKey key, LoadKey(*db_, uuid));
  RECURRENT_RETURN_IF_ERROR(watch_->Check());
  RECURRENT_RETURN_IF_ERROR(txn.Commit());
  return key;
}

absl::Status SqliteApiKeyStore::AppendAudit(const AuditEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_RETURN_IF_ERROR(watch_->Check());
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("INSERT INTO audit_log (at, key_uuid, key_name, action,"
                   " target) VALUES (?, ?, ?, ?, ?)"));
  stmt.BindTime(1, entry.at);
  stmt.BindText(2, entry.key_uuid);
  stmt.BindText(3, entry.key_name);
  stmt.BindText(4, entry.action);
  stmt.BindText(5, entry.target);
  return stmt.Run();
}

absl::StatusOr<std::vector<AuditEntry>> SqliteApiKeyStore::ListAudit(
    int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare("SELECT at, key_uuid, key_name, action, target FROM"
                   " (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?)"
                   " ORDER BY id"));
  stmt.BindInt64(1, limit);
  std::vector<AuditEntry> entries;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    AuditEntry entry;
    entry.at = stmt.ColumnTime(0);
    entry.key_uuid = stmt.ColumnText(1);
    entry.key_name = stmt.ColumnText(2);
    entry.action = stmt.ColumnText(3);
    entry.target = stmt.ColumnText(4);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace recurrent::persistence
