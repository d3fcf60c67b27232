#include "persistence/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recurrent::persistence {

absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot fsync ", path, ": ", std::strerror(fsync_errno)));
  }
  return absl::OkStatus();
}

absl::Status CreateFoldersDurably(const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code error;
  // The missing folders, outermost first.
  std::vector<fs::path> missing;
  for (fs::path path = fs::path(folder);
       !path.empty() && !fs::exists(path, error); path = path.parent_path()) {
    missing.insert(missing.begin(), path);
    if (path == path.parent_path()) break;
  }
  if (missing.empty()) return absl::OkStatus();
  fs::create_directories(folder, error);
  if (error) return absl::FailedPreconditionError(error.message());
  for (const fs::path& created : missing) {
    const fs::path parent = created.parent_path();
    RECURRENT_RETURN_IF_ERROR(SyncPath(parent.empty() ? "." : parent.string()));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence
