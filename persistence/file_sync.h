// Durability of files and folders the SQLite backend creates itself
// (SQLite makes its own writes durable).
#ifndef RECURRENT_PERSISTENCE_FILE_SYNC_H_
#define RECURRENT_PERSISTENCE_FILE_SYNC_H_

#include <string>

#include "absl/status/status.h"

namespace recurrent::persistence {

// fsyncs `path`, a file or a folder (a folder's fsync makes the creation,
// renaming or removal of its entries durable). FAILED_PRECONDITION naming
// the path if it cannot.
absl::Status SyncPath(const std::string& path);

// Creates the folder `folder` and any missing parents, and makes each
// creation durable (fsyncs the parent of every folder it created).
// FAILED_PRECONDITION with the system's reason (the caller names `folder`).
absl::Status CreateFoldersDurably(const std::string& folder);

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_FILE_SYNC_H_
