// SqliteBackend: the embedded Backend (persistence/backend.h), one SQLite
// database file.
//
//   SqliteBackend::Options options;
//   options.path = "./data/recurrent.db";
//   RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteBackend> backend,
//                              SqliteBackend::Open(options));
//
// The database runs in WAL mode with foreign keys on. Open() creates the
// file and its folder if missing and brings the schema to the latest
// version (persistence/sqlite_schema.h).
//
// Write transactions run on the one writer connection, one at a time (each
// holds it for its life, then BEGIN IMMEDIATE, which also serializes them
// with other processes'): SQLite's single write lock is every source's lock
// and every claim's (backend.h, contract points 3 and 4). Request reads run
// on a pool of read-only connections, each in a deferred transaction, so
// WAL snapshots keep them consistent and never blocked by the writer. A
// scan read, and ScanSource on a write transaction, use a new read-only
// connection of their own, so long scans hold no pooled connection.
//
// Thread-safe. Transactions must not outlive the backend.
#ifndef RECURRENT_PERSISTENCE_SQLITE_BACKEND_H_
#define RECURRENT_PERSISTENCE_SQLITE_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/backend.h"

namespace recurrent::persistence {

namespace sqlite {
class Connection;
class ConnectionPool;
class FileWatch;
}  // namespace sqlite

class SqliteBackend final : public Backend {
 public:
  // PRAGMA synchronous of the writer connection.
  enum class Synchronous {
    kNormal,  // faster; a power loss may drop the last commits (WAL mode)
    kFull,    // every commit is fsynced before it is acknowledged
  };

  struct Options {
    // The database file. Its folder is created if missing.
    std::string path;
    // Read-only connections; concurrent reads beyond this wait for one.
    int reader_pool_size = 4;
    // How long a statement waits for a lock held by another connection (or
    // process) before failing with kUnavailable.
    absl::Duration busy_timeout = absl::Seconds(5);
    // kFull so that an acknowledged write survives a crash or power loss.
    Synchronous synchronous = Synchronous::kFull;
    // If positive, caps the database at this many pages (PRAGMA
    // max_page_count on the writer); writes beyond fail with
    // kResourceExhausted as on a full disk.
    int64_t max_page_count = 0;
    // Serve reads only (e.g. a copy made with BackupDatabase, or while the
    // disk is being repaired): every connection is opened read-only, the
    // file is never written (no migration, no journal-mode change), and
    // every write fails with kFailedPrecondition ("database is read-only").
    // The file must exist at the latest schema version. In a folder this
    // process cannot write, the file is opened as immutable (no lock, no
    // -shm file): nothing of this user can change it there.
    bool read_only = false;
    // Create the file if it is missing (otherwise Open fails with
    // kFailedPrecondition); see created().
    bool create_if_missing = true;
  };

  // Opens (creating if needed) and migrates the database at options.path.
  // Errors name the path and are meant for the operator, not API callers:
  //   kInvalidArgument    empty path or reader_pool_size < 1
  //   kFailedPrecondition the path is a directory, cannot be created or
  //                       opened (e.g. permission denied), is missing and
  //                       may not be created, is not a SQLite database, or
  //                       has a schema newer than this build (or, read-only,
  //                       older)
  //   kUnavailable        the database is locked by another process
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(
      const Options& options);

  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  ~SqliteBackend() override;

  // Backend:
  // kRequest leases a pooled reader (waiting for one if all are in use);
  // kScan opens a new read-only connection. Either way the transaction is
  // deferred: its snapshot is taken at its first read.
  absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead(
      ReadKind kind = ReadKind::kRequest) override;
  // Waits for the writer connection (held by the transaction until it
  // commits or is destroyed), then for SQLite's write lock up to
  // busy_timeout (kUnavailable after).
  // Each commit (not the begin: one stat(2) per write is enough) first
  // checks that the path still names the opened file (kUnavailable from
  // then on if not; see sqlite::FileWatch).
  absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  // kUnavailable once the path no longer names the opened file.
  absl::Status CheckHealth() override;

  // True if Open created the database file.
  bool created() const { return created_; }

 private:
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> OpenReadOnly(
      const Options& options);
  SqliteBackend(const Options& options, bool created, bool immutable,
                std::unique_ptr<sqlite::FileWatch> watch,
                std::unique_ptr<sqlite::ConnectionPool> writer,
                std::unique_ptr<sqlite::ConnectionPool> readers);

  // A new read-only connection for scanning a whole source.
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> OpenScanConnection()
      const;

  const Options options_;
  const bool created_;
  const bool immutable_;  // read-only connections opened as immutable
  const std::unique_ptr<sqlite::FileWatch> watch_;
  // A pool of one: leasing it is holding this process's write lock. Null
  // when read-only.
  std::unique_ptr<sqlite::ConnectionPool> writer_;
  std::unique_ptr<sqlite::ConnectionPool> readers_;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SQLITE_BACKEND_H_
