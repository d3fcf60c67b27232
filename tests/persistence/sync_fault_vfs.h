// SyncFaultVfs: a SQLite VFS, for tests, that wraps the default one and can
// make fsync fail, as a failing disk does.
//
//   SyncFaultVfs vfs;             // the default VFS until destroyed
//   ... open connections ...      // (those opened before are not wrapped)
//   vfs.FailSyncsOf("-wal");      // xSync of files named *-wal fails
//   ...                           // SQLITE_IOERR_FSYNC
//   vfs.Heal();
//
// One at a time per process; not thread-safe to arm while files sync.
#ifndef RECURRENT_TESTS_PERSISTENCE_SYNC_FAULT_VFS_H_
#define RECURRENT_TESTS_PERSISTENCE_SYNC_FAULT_VFS_H_

#include <string>

namespace recurrent::persistence::testing {

class SyncFaultVfs {
 public:
  // Registers the wrapper as SQLite's default VFS.
  SyncFaultVfs();
  // Restores the VFS that was the default before.
  ~SyncFaultVfs();
  SyncFaultVfs(const SyncFaultVfs&) = delete;
  SyncFaultVfs& operator=(const SyncFaultVfs&) = delete;

  // From now on, syncs of files whose name ends with `suffix` fail with
  // SQLITE_IOERR_FSYNC (the data written before stays written).
  void FailSyncsOf(const std::string& suffix);
  // Syncs succeed again.
  void Heal();
  // Syncs failed since construction.
  int failed_syncs() const;
};

}  // namespace recurrent::persistence::testing

#endif  // RECURRENT_TESTS_PERSISTENCE_SYNC_FAULT_VFS_H_
