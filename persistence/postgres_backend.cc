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

namespace {

postgres::Access AccessFor(const PostgresBackend::Options& options) {
  return options.read_only ? postgres::Access::kReadOnly
                           : postgres::Access::kReadWrite;
}

}  // namespace

PostgresBackend::PostgresBackend(const Options& options, bool created)
    : options_(options),
      created_(created),
      pool_(std::make_unique<postgres::ConnectionPool>(
          options.uri, options.pool_size, options.pool_wait,
          AccessFor(options))) {}

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

// A writable replica's checks, before and after migrating: each names what
// would otherwise fail later, in the middle of a request.
absl::Status CheckMayWrite(postgres::Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t standby,
      connection.QueryInt64("SELECT pg_is_in_recovery()::int"));
  if (standby != 0) {
    return absl::FailedPreconditionError(
        "the PostgreSQL server is a hot standby, which only reads: start "
        "this replica with --read_only, or point it at the primary");
  }
  // A large write keeps its change rows in a temporary table
  // (postgres::PendingChanges): a role that may not create one would fail
  // only then, in the middle of a reprocess. Refused at once, before
  // migrating anything.
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
  return absl::OkStatus();
}

absl::Status CheckMayWriteTables(postgres::Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t writable,
      connection.QueryInt64(
          "SELECT has_table_privilege('change_log', 'INSERT')::int"));
  if (writable == 0) {
    return absl::FailedPreconditionError(
        "the database role may not write to Recurrent's tables: start this "
        "replica with --read_only, or grant the role INSERT, UPDATE and "
        "DELETE on them (docs/deployment.md)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(
    const Options& options) {
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<postgres::Connection> connection,
      postgres::Connection::Open(options.uri, AccessFor(options)));
  int found = postgres::LatestSchemaVersion();
  if (options.read_only) {
    RECURRENT_RETURN_IF_ERROR(CheckSchemaIsCurrent(*connection));
  } else {
    RECURRENT_RETURN_IF_ERROR(CheckMayWrite(*connection));
    RECURRENT_ASSIGN_OR_RETURN(found, postgres::ApplyMigrations(*connection));
    RECURRENT_RETURN_IF_ERROR(CheckMayWriteTables(*connection));
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
    return common::WithReason(
        absl::FailedPreconditionError("database is read-only"),
        common::reason::kDatabaseReadOnly);
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
          health_,
          postgres::Connection::Open(options_.uri, AccessFor(options_)));
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
