// PostgresBackend: the Backend (persistence/backend.h) on a PostgreSQL 15
// database, shared by any number of recurrentd replicas.
//
//   PostgresBackend::Options options;
//   options.uri = "postgresql://recurrent@db.internal:5432/recurrent";
//   RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<PostgresBackend> backend,
//                              PostgresBackend::Open(options));
//
// Open() connects and brings the schema to the latest version
// (persistence/postgres_schema.h; one replica migrates, the others wait).
// Transactions lease connections from a pool of `pool_size`, opened on
// demand; how each keeps the concurrency contract is described in
// persistence/postgres_transactions.h. Commits are durable as the server
// is configured (synchronous_commit is left at its default, on).
//
// Thread-safe. Transactions must not outlive the backend.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_BACKEND_H_
#define RECURRENT_PERSISTENCE_POSTGRES_BACKEND_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/backend.h"

namespace recurrent::persistence {

namespace postgres {
class Connection;
class ConnectionPool;
}  // namespace postgres

class PostgresBackend final : public Backend {
 public:
  struct Options {
    // A libpq connection URI, postgresql://user[:password]@host[:port]/db.
    std::string uri;
    // Connections at most (reads and writes together; a reprocess's scan
    // opens one more of its own).
    int pool_size = 16;
    // How long a transaction waits for a pooled connection.
    absl::Duration pool_wait = absl::Seconds(10);
    // Change-log rows a write transaction keeps in memory until its
    // commit; beyond, they wait in a temporary table of its connection.
    size_t change_rows_in_memory = 10000;
    // Only read, for a read-only replica: on a role with SELECT grants only,
    // or on a hot standby. Open() then changes nothing and requires the
    // schema at this build's version; every session is read-only
    // (postgres::Access::kReadOnly) and BeginWrite() fails with
    // kFailedPrecondition (reason DATABASE_READ_ONLY).
    bool read_only = false;
  };

  // True if `db` names a PostgreSQL database (a postgresql:// or
  // postgres:// URI) rather than a SQLite file.
  static bool IsUri(absl::string_view db);

  // Connects and migrates. kUnavailable if the server cannot be reached;
  // kFailedPrecondition, before migrating anything, if the schema is newer
  // than this build, if the server is a hot standby or the role's sessions
  // are read-only, if the role may not create temporary tables (PostgreSQL
  // grants it by default), may not insert, update and delete rows of the
  // tables, or may not create tables while the schema needs migrating.
  // With `read_only`, kFailedPrecondition unless the schema is at this
  // build's version (a writable replica migrates it).
  static absl::StatusOr<std::unique_ptr<PostgresBackend>> Open(
      const Options& options);

  ~PostgresBackend() override;

  // kRequest leases a pooled connection; kScan opens one of its own, closed
  // when the transaction ends.
  absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead(
      ReadKind kind = ReadKind::kRequest) override;
  // kFailedPrecondition (DATABASE_READ_ONLY) if `read_only`.
  absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  // Runs SELECT 1 on a connection kept for it (on a new one if that was
  // lost, or fails because the server closed it since the last check):
  // kUnavailable while the server cannot be reached.
  absl::Status CheckHealth() override;

  // True if Open() found an empty database and created the schema.
  bool created() const { return created_; }

 private:
  PostgresBackend(const Options& options, bool created);

  const Options options_;
  const bool created_;
  std::unique_ptr<postgres::ConnectionPool> pool_;
  std::mutex health_mu_;
  std::unique_ptr<postgres::Connection> health_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_POSTGRES_BACKEND_H_
