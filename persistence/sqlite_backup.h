// BackupDatabase: a consistent copy of a live Recurrent database, made with
// SQLite's online backup API (sqlite3_backup_*).
//
//   RECURRENT_RETURN_IF_ERROR(BackupDatabase("./data/recurrent.db",
//   "/backups/r.db"));
//
// The copy is one read snapshot of the source: every transaction committed
// before the backup starts is in it, none committed after. A server may keep
// serving (and writing) the source meanwhile: in WAL mode the backup's read
// transaction blocks no writer. The copy is written to `to_path` + ".tmp",
// checked with PRAGMA integrity_check, fsynced and renamed over `to_path`,
// so `to_path` is either the previous file or a complete, checked copy.
#ifndef RECURRENT_PERSISTENCE_SQLITE_BACKUP_H_
#define RECURRENT_PERSISTENCE_SQLITE_BACKUP_H_

#include <string>

#include "absl/status/status.h"

namespace recurrent::persistence {

// Copies the database at `from_path` to `to_path` (see the file comment).
// Errors name the paths and are meant for the operator:
//   kInvalidArgument    a path is empty, or both name the same file
//   kFailedPrecondition `from_path` is missing or not a database, or
//                       `to_path` cannot be written
//   kResourceExhausted  the disk of `to_path` is full
//   kDataLoss           the copy fails its integrity check
//   kUnavailable        the source stayed locked (busy) for too long
absl::Status BackupDatabase(const std::string& from_path,
                            const std::string& to_path);

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SQLITE_BACKUP_H_
