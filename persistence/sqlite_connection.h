// One SQLite connection with a cache of prepared statements.
//
// Not thread-safe: a Connection is used by one thread at a time (the owner
// serializes access, e.g. SqliteBackend's writer mutex or reader pool).
#ifndef RECURRENT_PERSISTENCE_SQLITE_CONNECTION_H_
#define RECURRENT_PERSISTENCE_SQLITE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/sqlite_statement.h"

namespace recurrent::persistence::sqlite {

class Connection {
 public:
  enum class Mode {
    kReadWriteCreate,  // creates the file if missing
    kReadWrite,        // the file must exist
    kReadOnly,
    // Read-only, and promised that no one changes the file while it is open:
    // SQLite takes no lock and creates no -shm file (URI immutable=1), so a
    // file in a folder nobody may write can be read.
    kImmutable,
  };

  // How to open `path` to only read it: kImmutable in a folder this process
  // cannot write (no process of this user can change the file there:
  // SQLite writes its journal or WAL beside it, and could not create a
  // WAL-mode file's -shm there), kReadOnly otherwise.
  static Mode ReadOnlyModeFor(const std::string& path);

  // Opens `path`. Errors name the path (they are meant for the operator's
  // console, not API callers): kFailedPrecondition if the file cannot be
  // opened or is not a database, kUnavailable if it is locked.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, Mode mode, absl::Duration busy_timeout);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Returns the cached prepared statement for `sql` (a constant string with
  // `?` parameters, never user data), preparing it on first use. If that
  // statement is already in use (nested use of the same SQL), returns a
  // fresh uncached one. The Statement must not outlive the Connection.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Runs one or more statements that take no parameters and return no rows
  // (schema changes, pragmas).
  absl::Status Execute(const char* sql);

  // Runs a single-value query with no parameters (e.g. "PRAGMA
  // user_version") and returns the value as an integer.
  absl::StatusOr<int64_t> QueryInt64(absl::string_view sql);

  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // True inside an explicit transaction.
  bool InTransaction() const;

  sqlite3* handle() const { return db_.get(); }

 private:
  struct CachedStatement {
    StatementPtr stmt;
    bool in_use = false;
  };

  explicit Connection(DatabasePtr db);

  // Declared before the cache: statements are finalized before the
  // connection is closed.
  DatabasePtr db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> cache_;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CONNECTION_H_
