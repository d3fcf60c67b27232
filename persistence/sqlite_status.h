// Conversion of SQLite result codes to absl::Status.
//
// Messages are safe for API callers: they never contain SQL, paths or
// SQLite's own message text. Details of unexpected errors go to stderr.
#ifndef RECURRENT_PERSISTENCE_SQLITE_STATUS_H_
#define RECURRENT_PERSISTENCE_SQLITE_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct sqlite3;

namespace recurrent::persistence::sqlite {

// Maps the error `rc` (usually sqlite3_extended_errcode(db)) that occurred
// while doing `operation` (a short phrase, e.g. "step") on `db` (may be
// null):
//   SQLITE_BUSY*, SQLITE_LOCKED*       kUnavailable
//   SQLITE_FULL                        kResourceExhausted
//   SQLITE_READONLY*                   kFailedPrecondition
//   SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY kAlreadyExists (generic message:
//                                      call sites rewrite it to name the
//                                      resource)
//   anything else                      kInternal (details logged to stderr)
absl::Status SqliteErrorToStatus(sqlite3* db, int rc,
                                 absl::string_view operation);

// True if `status` came from a SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY error.
bool IsUniqueViolation(const absl::Status& status);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_STATUS_H_
