#include "persistence/sqlite_file_watch.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"

namespace recurrent::persistence::sqlite {

namespace {

// For API callers: no path (backend.h); the log line below names it.
constexpr char kLostMessage[] =
    "the database file was deleted or replaced while open; writes are "
    "refused so that none is acknowledged and then lost (restore the file "
    "and restart recurrentd; the server's log names it)";

}  // namespace

absl::StatusOr<std::unique_ptr<FileWatch>> FileWatch::Start(
    const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot stat database file ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<FileWatch>(
      new FileWatch(path, info.st_dev, info.st_ino));
}

absl::Status FileWatch::Check() {
  if (lost_.load(std::memory_order_acquire)) {
    return common::WithReason(absl::UnavailableError(kLostMessage),
                              common::reason::kDatabaseReplaced);
  }
  struct stat info;
  if (stat(path_.c_str(), &info) == 0 && info.st_dev == device_ &&
      info.st_ino == inode_) {
    return absl::OkStatus();
  }
  // A failure other than a missing file (EACCES on a folder made
  // unreadable, EIO) also means the path cannot be trusted to reach the
  // file any more.
  if (!lost_.exchange(true, std::memory_order_acq_rel)) {
    log::Error(
        "the database file was deleted or replaced while open; "
        "writes are refused from now on",
        {{"path", path_}});
  }
  return common::WithReason(absl::UnavailableError(kLostMessage),
                            common::reason::kDatabaseReplaced);
}

}  // namespace recurrent::persistence::sqlite
