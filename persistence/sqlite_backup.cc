#include "persistence/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/file_sync.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence {
namespace {

using sqlite::Connection;
using sqlite::Statement;

absl::Status BackupError(int rc, const std::string& from_path,
                         const std::string& to_path) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      // The copy is a new file: the source is what cannot be read.
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read database ", from_path, ": ", sqlite3_errstr(rc)));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return common::WithReason(
          absl::UnavailableError(
              "the source database stayed locked; retry later"),
          common::reason::kDatabaseBusy);
    case SQLITE_FULL:
      return common::WithReason(absl::ResourceExhaustedError(absl::StrCat(
                                    "disk full while writing ", to_path)),
                                common::reason::kDiskFull);
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot write backup ", to_path, ": ", sqlite3_errstr(rc)));
  }
}

// Copies the database at `from_path` into the empty file `tmp_path`, checks
// the copy and fsyncs it.
absl::Status CopyInto(const std::string& from_path, const std::string& tmp_path,
                      const std::string& to_path) {
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> source,
      Connection::Open(from_path, Connection::Mode::kReadOnly,
                       absl::Seconds(30)));
  {
    RECURRENT_ASSIGN_OR_RETURN(
        std::unique_ptr<Connection> copy,
        Connection::Open(tmp_path, Connection::Mode::kReadWriteCreate,
                         absl::Seconds(30)));
    sqlite3_backup* backup =
        sqlite3_backup_init(copy->handle(), "main", source->handle(), "main");
    if (backup == nullptr) {
      return BackupError(sqlite3_extended_errcode(copy->handle()), from_path,
                         to_path);
    }
    // All pages in one step: one read snapshot of the source. In WAL mode
    // the source's writer is not blocked meanwhile.
    int rc = sqlite3_backup_step(backup, -1);
    const int finish_rc = sqlite3_backup_finish(backup);
    if (rc == SQLITE_DONE) rc = finish_rc;
    if (rc != SQLITE_OK) return BackupError(rc, from_path, to_path);
    // A self-contained file: rollback journal, not WAL.
    RECURRENT_RETURN_IF_ERROR(copy->Execute("PRAGMA journal_mode = DELETE"));
    RECURRENT_ASSIGN_OR_RETURN(Statement check,
                               copy->Prepare("PRAGMA integrity_check"));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, check.Step());
    if (!row || check.ColumnText(0) != "ok") {
      return absl::DataLossError(
          absl::StrCat("the backup of ", from_path,
                       " fails its integrity check; it was not kept"));
    }
  }
  return SyncPath(tmp_path);
}

}  // namespace

absl::Status BackupDatabase(const std::string& from_path,
                            const std::string& to_path) {
  if (from_path.empty() || to_path.empty()) {
    return absl::InvalidArgumentError("backup paths must not be empty");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(from_path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no database at ", from_path));
  }
  if (std::filesystem::equivalent(from_path, to_path, ec)) {
    return absl::InvalidArgumentError("the backup must not be the database");
  }
  const std::string tmp_path = to_path + ".tmp";
  std::filesystem::remove(tmp_path, ec);
  // The copy holds every customer and the keys' hashes: readable by its
  // owner only, whatever the umask (SQLite would create it 0644 & ~umask,
  // and its journal takes the file's mode).
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write backup ", to_path, ": ", std::strerror(errno)));
  }
  ::close(fd);
  if (absl::Status copied = CopyInto(from_path, tmp_path, to_path);
      !copied.ok()) {
    std::filesystem::remove(tmp_path, ec);
    std::filesystem::remove(tmp_path + "-journal", ec);
    return copied;
  }
  std::filesystem::rename(tmp_path, to_path, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot rename ", tmp_path, " to ", to_path, ": ", ec.message()));
  }
  const std::filesystem::path folder =
      std::filesystem::absolute(to_path).parent_path();
  return SyncPath(folder.string());
}

}  // namespace recurrent::persistence
