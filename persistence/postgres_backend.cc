#include "persistence/postgres_backend.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/postgres_connection.h"
#include "persistence/postgres_pool.h"
#include "persistence/postgres_schema.h"
#include "persistence/postgres_transactions.h"

namespace recurrent::persistence {

bool PostgresBackend::IsUri(absl::string_view db) {
  return absl::StartsWith(db, "postgresql://") ||
         absl::StartsWith(db, "postgres://");
}

PostgresBackend::PostgresBackend(const Options& options, bool created)
    : options_(options),
      created_(created),
      pool_(std::make_unique<postgres::ConnectionPool>(
          options.uri, options.pool_size, options.pool_wait,
          postgres::AccessOf(options.read_only))) {}

PostgresBackend::~PostgresBackend() = default;

namespace {

// A read-only replica's check: the schema is there, at this build's
// version, since it migrates nothing.
absl::Status CheckSchemaIsCurrent(postgres::Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t version,
                             postgres::SchemaVersion(connection));
  const int latest = postgres::LatestSchemaVersion();
  if (version == latest) return absl::OkStatus();
  if (version == 0) {
    return absl::FailedPreconditionError(
        "the database has no Recurrent schema, and a read-only replica "
        "creates nothing: start a replica without --read_only on it first");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the database has schema version ", version,
      " and this build reads version ", latest,
      version < latest
          ? "; a replica of this build without --read_only migrates it"
          : "; upgrade recurrentd"));
}

// A writable replica's checks, before it migrates anything: each names
// what would otherwise fail later, in the middle of a request (or of the
// migration, with a generic error).
absl::Status CheckMayWrite(postgres::Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t standby,
      connection.QueryInt64("SELECT pg_is_in_recovery()::int"));
  if (standby != 0) {
    return absl::FailedPreconditionError(
        "the PostgreSQL server is a hot standby, which only reads: start "
        "this replica with --read_only, or point it at the primary");
  }
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t read_only_sessions,
      connection.QueryInt64(
          "SELECT (current_setting('transaction_read_only') = 'on')::int"));
  if (read_only_sessions != 0) {
    return absl::FailedPreconditionError(
        "the role's sessions are read-only (default_transaction_read_only is "
        "set for the role or the database): start this replica with "
        "--read_only, or reset that setting");
  }
  // A large write keeps its change rows in a temporary table
  // (postgres::PendingChanges): a role that may not create one would fail
  // only then, in the middle of a reprocess.
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t temporary_tables,
      connection.QueryInt64("SELECT has_database_privilege("
                            "current_database(), 'TEMPORARY')::int"));
  if (temporary_tables == 0) {
    return absl::FailedPreconditionError(
        "the database role may not create temporary tables, which large "
        "writes (a reprocess, a deleted source) need: GRANT TEMPORARY ON "
        "DATABASE <database> TO <role> (docs/deployment.md)");
  }
  RECURRENT_ASSIGN_OR_RETURN(const int64_t version,
                             postgres::SchemaVersion(connection));
  if (version < postgres::LatestSchemaVersion()) {
    // Migrating creates and alters tables.
    RECURRENT_ASSIGN_OR_RETURN(
        const int64_t may_create,
        connection.QueryInt64("SELECT coalesce(has_schema_privilege("
                              "current_schema(), 'CREATE'), false)::int"));
    if (may_create == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          version == 0
              ? "the database has no Recurrent schema"
              : absl::StrCat("the database has schema version ", version),
          ", this build needs version ", postgres::LatestSchemaVersion(),
          ", and the role may not create tables in its schema to migrate it: "
          "start this version once with the role that owns the schema "
          "(docs/deployment.md)"));
    }
    return absl::OkStatus();  // the role will own what it creates
  }
  // The tables the migrations made (those of schema_version's schema and
  // owner): a replica inserts, updates and deletes rows in each.
  RECURRENT_ASSIGN_OR_RETURN(
      postgres::Statement lacking,
      connection.Prepare(
          "SELECT c.relname FROM pg_class c, pg_class v"
          " WHERE v.oid = to_regclass('schema_version')"
          " AND c.relnamespace = v.relnamespace AND c.relowner = v.relowner"
          " AND c.relkind IN ('r', 'p')"
          " AND NOT (has_table_privilege(c.oid, 'INSERT')"
          " AND has_table_privilege(c.oid, 'UPDATE')"
          " AND has_table_privilege(c.oid, 'DELETE'))"
          " ORDER BY c.relname LIMIT 1"));
  RECURRENT_ASSIGN_OR_RETURN(const bool found, lacking.Step());
  if (found) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database role may not insert, update and delete rows of table ",
        lacking.ColumnText(0),
        " (nor perhaps of others): start this replica with --read_only, or "
        "grant the role INSERT, UPDATE and DELETE on Recurrent's tables "
        "(docs/deployment.md)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(
    const Options& options) {
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<postgres::Connection> connection,
      postgres::Connection::Open(options.uri,
                                 postgres::AccessOf(options.read_only)));
  int found = postgres::LatestSchemaVersion();
  if (options.read_only) {
    RECURRENT_RETURN_IF_ERROR(CheckSchemaIsCurrent(*connection));
  } else {
    RECURRENT_RETURN_IF_ERROR(CheckMayWrite(*connection));
    RECURRENT_ASSIGN_OR_RETURN(found, postgres::ApplyMigrations(*connection));
  }
  std::unique_ptr<PostgresBackend> backend(
      new PostgresBackend(options, found == 0));
  std::lock_guard<std::mutex> lock(backend->health_mu_);
  backend->health_ = std::move(connection);
  return backend;
}

namespace {

// Begins a transaction with `begin` on a pooled connection. A connection
// the server closed while it sat in the pool (a restart, a failover, an
// idle-session timeout) fails its first statement, the BEGIN, before
// anything ran: the pool's other idle connections, likely closed alike, are
// discarded and `begin` runs once more, on a new connection.
template <typename Transaction, typename Begin>
absl::StatusOr<std::unique_ptr<Transaction>> BeginOnLiveConnection(
    postgres::ConnectionPool& pool, Begin begin) {
  for (int attempt = 0;; ++attempt) {
    RECURRENT_ASSIGN_OR_RETURN(postgres::ConnectionLease lease, pool.Acquire());
    absl::StatusOr<std::unique_ptr<Transaction>> txn = begin(std::move(lease));
    if (txn.ok() || attempt > 0 ||
        !common::HasReason(txn.status(),
                           common::reason::kDatabaseUnavailable)) {
      return txn;
    }
    pool.DiscardIdle();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReadTransaction>> PostgresBackend::BeginRead(
    ReadKind kind) {
  if (kind == ReadKind::kScan) {
    // A long scan (a dry run) on a connection of its own, closed at its
    // end: it never holds one of the pooled connections requests wait for.
    RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> own,
                               pool_->OpenUnpooled());
    return postgres::PostgresReadTransaction::Begin(
        postgres::OwnedLease(std::move(own)));
  }
  return BeginOnLiveConnection<ReadTransaction>(
      *pool_,
      [](postgres::ConnectionLease lease)
          -> absl::StatusOr<std::unique_ptr<ReadTransaction>> {
        return postgres::PostgresReadTransaction::Begin(std::move(lease));
      });
}

absl::StatusOr<std::unique_ptr<WriteTransaction>>
PostgresBackend::BeginWrite() {
  if (options_.read_only) {
    return DatabaseReadOnlyError();
  }
  return BeginOnLiveConnection<WriteTransaction>(
      *pool_, [this](postgres::ConnectionLease lease) {
        return postgres::PostgresWriteTransaction::Begin(
            std::move(lease), pool_.get(), options_.change_rows_in_memory);
      });
}

absl::Status PostgresBackend::CheckHealth() {
  std::lock_guard<std::mutex> lock(health_mu_);
  // A kept connection the server closed since the last check (a restart)
  // fails its query: the check then runs once more on a new connection, so
  // that a server that is back is not reported down.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = health_ != nullptr && !health_->Broken();
    if (!reused) {
      health_.reset();
      RECURRENT_ASSIGN_OR_RETURN(
          health_, postgres::Connection::Open(
                       options_.uri, postgres::AccessOf(options_.read_only)));
    }
    const absl::StatusOr<int64_t> one = health_->QueryInt64("SELECT 1");
    if (one.ok()) return absl::OkStatus();
    health_.reset();
    if (!reused) break;
  }
  return common::WithReason(
      absl::UnavailableError("the PostgreSQL server cannot be reached"),
      common::reason::kDatabaseUnavailable);
}

}  // namespace recurrent::persistence
