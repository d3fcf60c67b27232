#include "persistence/postgres_backend.h"

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
  RECURRENT_ASSIGN_OR_RETURN(const int found,
                             postgres::ApplyMigrations(*connection));
  std::unique_ptr<PostgresBackend> backend(
      new PostgresBackend(options, found == 0));
  std::lock_guard<std::mutex> lock(backend->health_mu_);
  backend->health_ = std::move(connection);
  return backend;
}

absl::StatusOr<std::unique_ptr<ReadTransaction>> PostgresBackend::BeginRead(
    ReadKind kind) {
  RECURRENT_ASSIGN_OR_RETURN(postgres::ConnectionLease lease,
                             pool_->Acquire());
  return postgres::PostgresReadTransaction::Begin(std::move(lease));
}

absl::StatusOr<std::unique_ptr<WriteTransaction>>
PostgresBackend::BeginWrite() {
  RECURRENT_ASSIGN_OR_RETURN(postgres::ConnectionLease lease,
                             pool_->Acquire());
  return postgres::PostgresWriteTransaction::Begin(std::move(lease),
                                                   pool_.get());
}

absl::Status PostgresBackend::CheckHealth() {
  std::lock_guard<std::mutex> lock(health_mu_);
  if (health_ == nullptr || health_->Broken()) {
    health_.reset();
    RECURRENT_ASSIGN_OR_RETURN(health_,
                               postgres::Connection::Open(options_.uri));
  }
  const absl::StatusOr<int64_t> one = health_->QueryInt64("SELECT 1");
  if (!one.ok()) {
    if (health_->Broken()) health_.reset();
    return common::WithReason(
        absl::UnavailableError("the PostgreSQL server cannot be reached"),
        common::reason::kDatabaseUnavailable);
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence
