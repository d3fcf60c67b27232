#include "tests/persistence/sync_fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/match.h"

namespace recurrent::persistence::testing {
namespace {

// SQLite's VFS interface is C: the wrapper's state is process-wide.
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs wrapper_vfs;
std::mutex fault_mu;
std::string failing_suffix;  // empty: no fault
std::atomic<int> failed_sync_count{0};

// A file of the wrapper: the real VFS's file follows it in memory.
struct WrappedFile {
  sqlite3_file base;
  const char* name;  // SQLite keeps the name alive while the file is open
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

sqlite3_file* Real(sqlite3_file* file) {
  return reinterpret_cast<WrappedFile*>(file)->real();
}

int Close(sqlite3_file* file) {
  return Real(file)->pMethods->xClose(Real(file));
}
int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  return Real(file)->pMethods->xRead(Real(file), buffer, amount, offset);
}
int Write(sqlite3_file* file, const void* buffer, int amount,
          sqlite3_int64 offset) {
  return Real(file)->pMethods->xWrite(Real(file), buffer, amount, offset);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return Real(file)->pMethods->xTruncate(Real(file), size);
}
int Sync(sqlite3_file* file, int flags) {
  const char* name = reinterpret_cast<WrappedFile*>(file)->name;
  {
    std::lock_guard<std::mutex> lock(fault_mu);
    if (!failing_suffix.empty() && name != nullptr &&
        absl::EndsWith(name, failing_suffix)) {
      ++failed_sync_count;
      return SQLITE_IOERR_FSYNC;
    }
  }
  return Real(file)->pMethods->xSync(Real(file), flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xLock(Real(file), level);
}
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) {
  return Real(file)->pMethods->xSectorSize(Real(file));
}
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int page, int size, int extend,
           void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), page, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  Real(file)->pMethods->xShmBarrier(Real(file));
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

// The wrapper's methods for files whose real methods are of `version`.
const sqlite3_io_methods* MethodsOfVersion(int version) {
  static sqlite3_io_methods methods[4];
  static std::once_flag once;
  std::call_once(once, [] {
    for (int v = 1; v <= 3; ++v) {
      methods[v] = sqlite3_io_methods{v,
                                      Close,
                                      Read,
                                      Write,
                                      Truncate,
                                      Sync,
                                      FileSize,
                                      Lock,
                                      Unlock,
                                      CheckReservedLock,
                                      FileControl,
                                      SectorSize,
                                      DeviceCharacteristics,
                                      v >= 2 ? ShmMap : nullptr,
                                      v >= 2 ? ShmLock : nullptr,
                                      v >= 2 ? ShmBarrier : nullptr,
                                      v >= 2 ? ShmUnmap : nullptr,
                                      v >= 3 ? Fetch : nullptr,
                                      v >= 3 ? Unfetch : nullptr};
    }
  });
  return &methods[version < 1 ? 1 : (version > 3 ? 3 : version)];
}

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  auto* wrapped = reinterpret_cast<WrappedFile*>(file);
  wrapped->name = name;
  const int rc =
      real_vfs->xOpen(real_vfs, name, wrapped->real(), flags, out_flags);
  const sqlite3_io_methods* real_methods = wrapped->real()->pMethods;
  wrapped->base.pMethods = real_methods == nullptr
                               ? nullptr
                               : MethodsOfVersion(real_methods->iVersion);
  return rc;
}

// The rest of the VFS goes straight to the real one.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return real_vfs->xDlOpen(real_vfs, name);
}
void DlError(sqlite3_vfs*, int size, char* out) {
  real_vfs->xDlError(real_vfs, size, out);
}
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return real_vfs->xDlSym(real_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) {
  real_vfs->xDlClose(real_vfs, handle);
}
int Randomness(sqlite3_vfs*, int size, char* out) {
  return real_vfs->xRandomness(real_vfs, size, out);
}
int Sleep(sqlite3_vfs*, int micros) {
  return real_vfs->xSleep(real_vfs, micros);
}
int CurrentTime(sqlite3_vfs*, double* out) {
  return real_vfs->xCurrentTime(real_vfs, out);
}
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return real_vfs->xGetLastError(real_vfs, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

}  // namespace

SyncFaultVfs::SyncFaultVfs() {
  failed_sync_count = 0;
  real_vfs = sqlite3_vfs_find(nullptr);
  wrapper_vfs = sqlite3_vfs{};
  wrapper_vfs.iVersion = 2;
  wrapper_vfs.szOsFile =
      static_cast<int>(sizeof(WrappedFile)) + real_vfs->szOsFile;
  wrapper_vfs.mxPathname = real_vfs->mxPathname;
  wrapper_vfs.zName = "recurrent-sync-fault";
  wrapper_vfs.xOpen = Open;
  wrapper_vfs.xDelete = Delete;
  wrapper_vfs.xAccess = Access;
  wrapper_vfs.xFullPathname = FullPathname;
  wrapper_vfs.xDlOpen = DlOpen;
  wrapper_vfs.xDlError = DlError;
  wrapper_vfs.xDlSym = DlSym;
  wrapper_vfs.xDlClose = DlClose;
  wrapper_vfs.xRandomness = Randomness;
  wrapper_vfs.xSleep = Sleep;
  wrapper_vfs.xCurrentTime = CurrentTime;
  wrapper_vfs.xGetLastError = GetLastError;
  wrapper_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&wrapper_vfs, /*makeDflt=*/1);
}

SyncFaultVfs::~SyncFaultVfs() {
  Heal();
  sqlite3_vfs_unregister(&wrapper_vfs);
  sqlite3_vfs_register(real_vfs, /*makeDflt=*/1);
}

void SyncFaultVfs::FailSyncsOf(const std::string& suffix) {
  std::lock_guard<std::mutex> lock(fault_mu);
  failing_suffix = suffix;
}

void SyncFaultVfs::Heal() {
  std::lock_guard<std::mutex> lock(fault_mu);
  failing_suffix.clear();
}

int SyncFaultVfs::failed_syncs() const { return failed_sync_count.load(); }

}  // namespace recurrent::persistence::testing
