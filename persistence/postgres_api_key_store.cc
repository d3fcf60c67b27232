#include "persistence/postgres_api_key_store.h"

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "persistence/keyset_page.h"
#include "persistence/page_token.h"
#include "persistence/postgres_connection.h"
#include "persistence/postgres_schema.h"

namespace recurrent::persistence {

using postgres::Connection;
using postgres::Statement;

namespace {

// The first schema version with the api_keys and audit_log tables (the
// first PostgreSQL version).
constexpr int64_t kKeysSchemaVersion = 5;

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
      absl::StrCat("SELECT ", kKeyColumns, " FROM api_keys WHERE uuid = $1"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) {
    return common::ResourceNotFound("api_key", uuid);
  }
  return ReadKey(stmt);
}

// Runs `body` between BEGIN and COMMIT on `db`; rolls back if anything
// fails, and returns the first failure. READ COMMITTED whatever the
// server's default: CreateApiKey's check must see the keys committed while
// it waited for the lock.
absl::Status InTransaction(Connection& db,
                           absl::FunctionRef<absl::Status()> body) {
  RECURRENT_RETURN_IF_ERROR(db.Execute("BEGIN ISOLATION LEVEL READ COMMITTED"));
  absl::Status status = body();
  // A key created twice (a retried CreateApiKey whose first secret was
  // lost) or a revocation thought undone: the caller must know.
  if (status.ok()) status = postgres::CommitStatus(db.Execute("COMMIT"));
  // A failed COMMIT has ended the transaction, and a lost connection has no
  // transaction left to end.
  if (!status.ok() && db.InTransaction()) (void)db.Execute("ROLLBACK");
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresApiKeyStore>> PostgresApiKeyStore::Open(
    const std::string& uri, const Options& options) {
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> db,
      Connection::Open(uri, postgres::AccessOf(options.read_only)));
  // Never migrates (the backend has).
  RECURRENT_ASSIGN_OR_RETURN(const int64_t version,
                             postgres::SchemaVersion(*db));
  if (version < kKeysSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("the PostgreSQL database has schema version ", version,
                     "; open it with the PostgreSQL backend first"));
  }
  return std::unique_ptr<PostgresApiKeyStore>(
      new PostgresApiKeyStore(uri, options, std::move(db)));
}

PostgresApiKeyStore::PostgresApiKeyStore(std::string uri,
                                         const Options& options,
                                         std::unique_ptr<Connection> db)
    : uri_(std::move(uri)), options_(options), db_(std::move(db)) {}

PostgresApiKeyStore::~PostgresApiKeyStore() = default;

absl::StatusOr<Connection*> PostgresApiKeyStore::Live() {
  if (db_->Broken()) {
    absl::StatusOr<std::unique_ptr<Connection>> reopened =
        Connection::Open(uri_, postgres::AccessOf(options_.read_only));
    if (!reopened.ok()) {
      // The reason may name hosts: it goes to the log, not to callers.
      log::Error("cannot reopen the API keys' connection",
                 {{"error", std::string(reopened.status().message())}});
      return common::WithReason(
          absl::UnavailableError("the database cannot be reached; retry"),
          common::reason::kDatabaseUnavailable);
    }
    db_ = *std::move(reopened);
  }
  return db_.get();
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::CreateApiKey(
    absl::string_view name, ApiKeyRole role, absl::string_view secret_sha256,
    absl::Time now, Creation creation) {
  // Every creation takes the lock, so that the first-key check also sees
  // keys being created with kAny elsewhere (as SQLite's write lock does).
  static const std::string* const kLockSql = new std::string(absl::StrCat(
      "SELECT pg_advisory_xact_lock(", postgres::kLockClassApiKeys, ", 0)"));
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  ApiKey key;
  RECURRENT_RETURN_IF_ERROR(InTransaction(*db, [&]() -> absl::Status {
    RECURRENT_RETURN_IF_ERROR(db->Execute(kLockSql->c_str()));
    if (creation == Creation::kFirstOnly) {
      // Read after taking the lock: READ COMMITTED gives this statement a
      // snapshot holding every key whose creator released the lock.
      RECURRENT_ASSIGN_OR_RETURN(
          Statement count,
          db->Prepare("SELECT EXISTS (SELECT 1 FROM api_keys)::integer"));
      RECURRENT_ASSIGN_OR_RETURN(bool row, count.Step());
      if (row && count.ColumnInt64(0) != 0) {
        return common::WithReason(
            absl::UnauthenticatedError(
                "an API key exists now; this call needs one (authorization: "
                "Bearer rk_…)"),
            common::reason::kApiKeyMissing);
      }
    }
    const std::string uuid = common::NewId(common::kApiKeyIdPrefix);
    {
      RECURRENT_ASSIGN_OR_RETURN(
          Statement stmt,
          db->Prepare("INSERT INTO api_keys (uuid, name, role, secret_sha256,"
                      " created_at) VALUES ($1, $2, $3, $4, $5)"));
      stmt.BindText(1, uuid);
      stmt.BindText(2, name);
      stmt.BindInt64(3, RoleCode(role));
      stmt.BindText(4, secret_sha256);
      stmt.BindTime(5, now);
      absl::Status inserted = stmt.Run();
      if (postgres::IsUniqueViolation(inserted)) {
        return common::ResourceAlreadyExists(
            absl::AlreadyExistsError(
                absl::StrCat("an API key named \"", name, "\" already exists")),
            "api_key", name);
      }
      RECURRENT_RETURN_IF_ERROR(inserted);
    }
    RECURRENT_ASSIGN_OR_RETURN(key, LoadKey(*db, uuid));
    return absl::OkStatus();
  }));
  return key;
}

absl::StatusOr<Page<ApiKey>> PostgresApiKeyStore::ListApiKeys(
    const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const uint64_t fingerprint = QueryFingerprint("api_keys", {});
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kKeyColumns,
                   " FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2"));
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  Page<ApiKey> result;
  RECURRENT_RETURN_IF_ERROR(InTransaction(*db, [&]() -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db->Prepare(*kSql));
    stmt.BindInt64(1, after);
    // One extra row tells whether there is a next page.
    stmt.BindInt64(2, int64_t{page.page_size} + 1);
    RECURRENT_ASSIGN_OR_RETURN(
        result,
        ReadKeysetPage<ApiKey>(stmt, page.page_size, fingerprint, ReadKey));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<ApiKey>> PostgresApiKeyStore::LoadAllApiKeys() {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kKeyColumns, " FROM api_keys ORDER BY id"));
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  std::vector<ApiKey> keys;
  RECURRENT_RETURN_IF_ERROR(InTransaction(*db, [&]() -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db->Prepare(*kSql));
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      RECURRENT_ASSIGN_OR_RETURN(ApiKey key, ReadKey(stmt));
      keys.push_back(std::move(key));
    }
    return absl::OkStatus();
  }));
  return keys;
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::RevokeApiKey(absl::string_view uuid,
                                                         absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  ApiKey key;
  RECURRENT_RETURN_IF_ERROR(InTransaction(*db, [&]() -> absl::Status {
    {
      RECURRENT_ASSIGN_OR_RETURN(
          Statement stmt,
          db->Prepare("UPDATE api_keys SET revoked_at = $1"
                      " WHERE uuid = $2 AND revoked_at IS NULL"));
      stmt.BindTime(1, now);
      stmt.BindText(2, uuid);
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
    }
    RECURRENT_ASSIGN_OR_RETURN(key, LoadKey(*db, uuid));
    return absl::OkStatus();
  }));
  return key;
}

absl::Status PostgresApiKeyStore::AppendAudit(const AuditEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  return InTransaction(*db, [&]() -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db->Prepare("INSERT INTO audit_log (at, key_uuid, key_name, action,"
                    " target) VALUES ($1, $2, $3, $4, $5)"));
    stmt.BindTime(1, entry.at);
    stmt.BindText(2, entry.key_uuid);
    stmt.BindText(3, entry.key_name);
    stmt.BindText(4, entry.action);
    stmt.BindText(5, entry.target);
    return stmt.Run();
  });
}

absl::StatusOr<std::vector<AuditEntry>> PostgresApiKeyStore::ListAudit(
    int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  RECURRENT_ASSIGN_OR_RETURN(Connection* const db, Live());
  std::vector<AuditEntry> entries;
  RECURRENT_RETURN_IF_ERROR(InTransaction(*db, [&]() -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db->Prepare("SELECT at, key_uuid, key_name, action, target FROM"
                    " (SELECT * FROM audit_log ORDER BY id DESC LIMIT $1)"
                    " AS recent ORDER BY id"));
    // A negative limit reads as none, as in SQLite (LIMIT NULL is LIMIT
    // ALL; PostgreSQL refuses a negative one).
    if (limit < 0) {
      stmt.BindNull(1);
    } else {
      stmt.BindInt64(1, limit);
    }
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
    return absl::OkStatus();
  }));
  return entries;
}

}  // namespace recurrent::persistence
