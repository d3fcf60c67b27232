// FileWatch: notices that a database's path no longer names the file that
// was opened (deleted, or replaced by another file), so that writes stop
// being acknowledged into a file nobody will open again.
//
//   RECURRENT_ASSIGN_OR_RETURN(auto watch, FileWatch::Start(path));
//   ...
//   RECURRENT_RETURN_IF_ERROR(watch->Check());  // before each commit
//
// Thread-safe.
#ifndef RECURRENT_PERSISTENCE_SQLITE_FILE_WATCH_H_
#define RECURRENT_PERSISTENCE_SQLITE_FILE_WATCH_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recurrent::persistence::sqlite {

class FileWatch {
 public:
  // Records the identity (device and inode) of the file at `path`, which
  // must exist (kFailedPrecondition otherwise, naming the path). Call it
  // right after opening the file.
  static absl::StatusOr<std::unique_ptr<FileWatch>> Start(
      const std::string& path);

  // OK while `path` names the recorded file. From the first call that finds
  // it missing or replaced, and for good (the open file is then unreachable
  // by name, so whatever is written to it is lost at the next start):
  // kUnavailable, naming the path and what happened. One stat(2).
  absl::Status Check();

 private:
  FileWatch(std::string path, dev_t device, ino_t inode)
      : path_(std::move(path)), device_(device), inode_(inode) {}

  const std::string path_;
  const dev_t device_;
  const ino_t inode_;
  std::atomic<bool> lost_{false};
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_FILE_WATCH_H_
