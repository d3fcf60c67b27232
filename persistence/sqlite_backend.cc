#include "persistence/sqlite_backend.h"

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "persistence/file_sync.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_connection_pool.h"
#include "persistence/sqlite_customer_state.h"
#include "persistence/sqlite_file_watch.h"
#include "persistence/sqlite_schema.h"
#include "persistence/sqlite_scoped_transaction.h"
#include "persistence/sqlite_transactions.h"

namespace recurrent::persistence {

using sqlite::Connection;
using sqlite::ConnectionLease;
using sqlite::ConnectionPool;

namespace {

// Creates the folder of `path` if missing, durably (SQLite makes the
// database's own entry in it durable when it creates the WAL beside it);
// errors name the path.
absl::Status PreparePath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path file(path);
  if (fs::is_directory(file, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("database path ", path, " is a directory"));
  }
  const fs::path parent = file.parent_path();
  if (parent.empty()) return absl::OkStatus();
  if (absl::Status created = CreateFoldersDurably(parent.string());
      !created.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create database folder ", parent.string(), ": ",
                     created.message()));
  }
  return absl::OkStatus();
}

// Makes an Open() error name the path: errors of the first statements on a
// fresh connection (e.g. "file is not a database") carry no path.
absl::Status WithPath(const absl::Status& status, const std::string& path) {
  if (status.ok()) return status;
  const absl::StatusCode code = status.code() == absl::StatusCode::kUnavailable
                                    ? absl::StatusCode::kUnavailable
                                    : absl::StatusCode::kFailedPrecondition;
  return absl::Status(
      code, absl::StrCat("cannot use database ", path, ": ", status.message()));
}

// Rebuilds every stale facts blob (after the migration that introduced
// them: every customer; after rows written by other means than a write
// transaction, e.g. bench/seed-database's direct inserts, theirs), a chunk
// per transaction so that the WAL stays small.
absl::Status RebuildAllStaleFacts(Connection& writer) {
  constexpr int64_t kChunk = 1000;
  while (true) {
    sqlite::ScopedTransaction txn(writer);
    RECURRENT_RETURN_IF_ERROR(
        txn.Begin(sqlite::ScopedTransaction::Kind::kImmediate));
    RECURRENT_ASSIGN_OR_RETURN(const int64_t rebuilt,
                               sqlite::RebuildStaleCustomerFacts(writer, kChunk));
    RECURRENT_RETURN_IF_ERROR(txn.Commit());
    if (rebuilt < kChunk) return absl::OkStatus();
  }
}

absl::Status ConfigureWriter(Connection& writer,
                             SqliteBackend::Synchronous synchronous) {
  {
    // The first statement reads the file header: a file that is not a
    // database fails here.
    RECURRENT_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                               writer.Prepare("PRAGMA journal_mode = WAL"));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row || stmt.ColumnText(0) != "wal") {
      return absl::FailedPreconditionError("cannot switch to WAL mode");
    }
  }
  RECURRENT_RETURN_IF_ERROR(writer.Execute("PRAGMA foreign_keys = ON"));
  // FULL: each commit is fsynced (WAL included) before it is acknowledged,
  // so acknowledged writes survive a crash or power loss.
  // 64 MiB of page cache: a reprocess writes a whole source in one
  // transaction, with random-order inserts into the events' uuid index; a
  // small cache would spill dirty pages to the WAL mid-transaction.
  RECURRENT_RETURN_IF_ERROR(writer.Execute("PRAGMA cache_size = -65536"));
  // A large transaction (a reprocess) grows the WAL to gigabytes; without a
  // limit the file keeps that size until a clean shutdown. With it, the WAL
  // is truncated to 64 MiB each time a checkpoint lets it start over.
  RECURRENT_RETURN_IF_ERROR(
      writer.Execute("PRAGMA journal_size_limit = 67108864"));
  RECURRENT_RETURN_IF_ERROR(
      writer.Execute(synchronous == SqliteBackend::Synchronous::kFull
                         ? "PRAGMA synchronous = FULL"
                         : "PRAGMA synchronous = NORMAL"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ConnectionPool>> OpenReaders(
    const SqliteBackend::Options& options, Connection::Mode mode) {
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.reader_pool_size; ++i) {
    RECURRENT_ASSIGN_OR_RETURN(
        std::unique_ptr<Connection> reader,
        Connection::Open(options.path, mode, options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  return std::make_unique<ConnectionPool>(std::move(readers));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(
    const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("database path is empty");
  }
  if (options.reader_pool_size < 1) {
    return absl::InvalidArgumentError("reader_pool_size must be at least 1");
  }
  std::error_code error;
  const bool exists = std::filesystem::exists(options.path, error);
  if (!exists && (options.read_only || !options.create_if_missing)) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", options.path, " does not exist",
                     options.read_only ? " (read-only: nothing is created)"
                                       : " (creating it is turned off)"));
  }
  if (options.read_only) return OpenReadOnly(options);
  RECURRENT_RETURN_IF_ERROR(PreparePath(options.path));
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(options.path, Connection::Mode::kReadWriteCreate,
                       options.busy_timeout));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::FileWatch> watch,
                             sqlite::FileWatch::Start(options.path));
  RECURRENT_RETURN_IF_ERROR(
      WithPath(ConfigureWriter(*writer, options.synchronous), options.path));
  RECURRENT_RETURN_IF_ERROR(
      WithPath(sqlite::ApplyMigrations(*writer), options.path));
  RECURRENT_RETURN_IF_ERROR(
      WithPath(RebuildAllStaleFacts(*writer), options.path));
  if (options.max_page_count > 0) {
    // PRAGMA takes no parameters; the value is a number.
    RECURRENT_RETURN_IF_ERROR(
        WithPath(writer->Execute(absl::StrCat("PRAGMA max_page_count = ",
                                              options.max_page_count)
                                     .c_str()),
                 options.path));
  }

  std::vector<std::unique_ptr<Connection>> writers;
  writers.push_back(std::move(writer));
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<ConnectionPool> readers,
      OpenReaders(options, Connection::Mode::kReadOnly));
  return std::unique_ptr<SqliteBackend>(new SqliteBackend(
      options, /*created=*/!exists, /*immutable=*/false, std::move(watch),
      std::make_unique<ConnectionPool>(std::move(writers)),
      std::move(readers)));
}

absl::StatusOr<std::unique_ptr<SqliteBackend>> SqliteBackend::OpenReadOnly(
    const Options& options) {
  const Connection::Mode mode = Connection::ReadOnlyModeFor(options.path);
  if (mode == Connection::Mode::kImmutable) {
    // Immutable, SQLite never reads the write-ahead log: commits still in
    // it (a writer that crashed, a checkpoint cut short) would be missing,
    // or the file a mix of two states.
    std::error_code error;
    const std::string wal = options.path + "-wal";
    if (std::filesystem::exists(wal, error) &&
        std::filesystem::file_size(wal, error) > 0 && !error) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", options.path, " has a write-ahead log (", wal,
          ") that may hold commits not yet in the file, and its folder is "
          "not writable, so SQLite cannot read it: open it once where its "
          "folder is writable (a clean close folds the log in), or copy "
          "both files to a folder that is"));
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<ConnectionPool> readers,
                             OpenReaders(options, mode));
  {
    ConnectionLease reader = readers->Acquire();
    // The first statement reads the file header: a file that is not a
    // database fails here.
    absl::StatusOr<int64_t> version =
        reader->QueryInt64("PRAGMA user_version");
    RECURRENT_RETURN_IF_ERROR(WithPath(version.status(), options.path));
    if (*version != sqlite::LatestSchemaVersion()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", options.path, " has schema version ", *version,
          " and this build reads version ", sqlite::LatestSchemaVersion(),
          *version < sqlite::LatestSchemaVersion()
              ? "; open it once without --read_only to migrate it"
              : "; upgrade recurrentd"));
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::FileWatch> watch,
                             sqlite::FileWatch::Start(options.path));
  return std::unique_ptr<SqliteBackend>(
      new SqliteBackend(options, /*created=*/false,
                        mode == Connection::Mode::kImmutable, std::move(watch),
                        /*writer=*/nullptr, std::move(readers)));
}

SqliteBackend::SqliteBackend(const Options& options, bool created,
                             bool immutable,
                             std::unique_ptr<sqlite::FileWatch> watch,
                             std::unique_ptr<ConnectionPool> writer,
                             std::unique_ptr<ConnectionPool> readers)
    : options_(options),
      created_(created),
      immutable_(immutable),
      watch_(std::move(watch)),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {}

SqliteBackend::~SqliteBackend() {
  // Readers close first, so the writer's close checkpoints the WAL.
  readers_.reset();
  writer_.reset();
}

absl::StatusOr<std::unique_ptr<Connection>> SqliteBackend::OpenScanConnection()
    const {
  absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(
      options_.path,
      immutable_ ? Connection::Mode::kImmutable : Connection::Mode::kReadOnly,
      options_.busy_timeout);
  if (!opened.ok()) {
    // Opened for a request (a scan): the client gets neither the path nor
    // SQLite's text, which the log keeps; a failure here (e.g. out of file
    // descriptors) is usually passing.
    log::Error("cannot open a scan connection to the database",
               {{"error", opened.status().ToString()}});
    if (common::HasReason(opened.status(), common::reason::kDatabaseBusy)) {
      return common::WithReason(
          absl::UnavailableError("the database is locked; retry"),
          common::reason::kDatabaseBusy);
    }
    return common::WithReason(
        absl::UnavailableError(
            "cannot open a connection to the database; retry"),
        common::reason::kDatabaseUnavailable);
  }
  std::unique_ptr<Connection> db = *std::move(opened);
  // A larger page cache for the scans' index-then-row lookups (32 MiB).
  RECURRENT_RETURN_IF_ERROR(db->Execute("PRAGMA cache_size = -32768"));
  return db;
}

absl::StatusOr<std::unique_ptr<ReadTransaction>> SqliteBackend::BeginRead(
    ReadKind kind) {
  if (kind == ReadKind::kScan) {
    RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                               OpenScanConnection());
    return sqlite::SqliteReadTransaction::Begin(
        sqlite::OwnedLease(std::move(connection)));
  }
  return sqlite::SqliteReadTransaction::Begin(readers_->Acquire());
}

absl::StatusOr<std::unique_ptr<WriteTransaction>> SqliteBackend::BeginWrite() {
  if (writer_ == nullptr) {
    return DatabaseReadOnlyError();
  }
  return sqlite::SqliteWriteTransaction::Begin(
      writer_->Acquire(), [this] { return OpenScanConnection(); },
      watch_.get());
}

absl::Status SqliteBackend::CheckHealth() { return watch_->Check(); }

}  // namespace recurrent::persistence
