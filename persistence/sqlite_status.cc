#include "persistence/sqlite_status.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"

namespace recurrent::persistence::sqlite {
namespace {

// Payload marking unique-constraint errors, so that call sites need not
// match message text.
constexpr absl::string_view kUniqueViolationPayload =
    "recurrent.persistence/unique_violation";

}  // namespace

absl::Status SqliteErrorToStatus(sqlite3* db, int rc,
                                 absl::string_view operation) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return common::WithReason(
          absl::UnavailableError("database is busy; retry later"),
          common::reason::kDatabaseBusy);
    case SQLITE_FULL:
      return common::WithReason(
          absl::ResourceExhaustedError("database or disk is full"),
          common::reason::kDiskFull);
    case SQLITE_READONLY:
      return DatabaseReadOnlyError();
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE ||
          rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        absl::Status status = absl::AlreadyExistsError("already exists");
        status.SetPayload(kUniqueViolationPayload, absl::Cord("1"));
        return status;
      }
      break;
    default:
      break;
  }
  log::Error("SQLite statement failed",
             {{"operation", std::string(operation)},
              {"code", absl::StrCat(sqlite3_errstr(rc), " (", rc, ")")},
              {"detail", db != nullptr ? sqlite3_errmsg(db) : ""}});
  return absl::InternalError(
      absl::StrCat("internal storage error (", sqlite3_errstr(rc), ")"));
}

bool IsUniqueViolation(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists &&
         status.GetPayload(kUniqueViolationPayload).has_value();
}

}  // namespace recurrent::persistence::sqlite
