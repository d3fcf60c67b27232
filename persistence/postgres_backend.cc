#include "persistence/postgres_backend.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
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
          options.uri, options.pool_size, options.pool_wait)) {}

PostgresBackend::~PostgresBackend() = default;

absl::StatusOr<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(
    const Options& options) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> connection,
                             postgres::Connection::Open(options.uri));
  // A large write keeps its change rows in a temporary table
  // (postgres::PendingChanges): a role that may not create one would fail
  // only then, in the middle of a reprocess. Refuse at once, before
  // migrating anything.
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t temporary_tables,
      connection->QueryInt64("SELECT has_database_privilege("
                             "current_database(), 'TEMPORARY')::int"));
  if (temporary_tables == 0) {
    return absl::FailedPreconditionError(
        "the database role may not create temporary tables, which large "
        "writes (a reprocess, a deleted source) need: GRANT TEMPORARY ON "
        "DATABASE <database> TO <role> (docs/deployment.md)");
  }
  RECURRENT_ASSIGN_OR_RETURN(const int found,
                             postgres::ApplyMigrations(*connection));
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
      RECURRENT_ASSIGN_OR_RETURN(health_,
                                 postgres::Connection::Open(options_.uri));
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
