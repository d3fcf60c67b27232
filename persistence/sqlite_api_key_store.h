// SqliteApiKeyStore: ApiKeyStore over the same SQLite database file as
// SqliteBackend (tables api_keys and audit_log, schema migration 4).
//
//   // Open() migrates the database:
//   RECURRENT_ASSIGN_OR_RETURN(auto backend, SqliteBackend::Open(options));
//   RECURRENT_ASSIGN_OR_RETURN(auto keys,
//                              SqliteApiKeyStore::Open(options.path));
//
// It has a connection of its own, used under a mutex; key management and
// audit entries are rare, so they simply take their turn at SQLite's write
// lock with SqliteBackend's writer (waiting up to `busy_timeout`).
//
// Thread-safe.
#ifndef RECURRENT_PERSISTENCE_SQLITE_API_KEY_STORE_H_
#define RECURRENT_PERSISTENCE_SQLITE_API_KEY_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/api_key_store.h"

namespace recurrent::persistence {

namespace sqlite {
class Connection;
class FileWatch;
}  // namespace sqlite

class SqliteApiKeyStore final : public ApiKeyStore {
 public:
  struct Options {
    // Only read keys (as SqliteBackend::Options::read_only): creating or
    // revoking a key, and auditing, fail.
    bool read_only = false;
    absl::Duration busy_timeout = absl::Seconds(5);
  };

  // Opens the database at `path`, which SqliteBackend::Open must already
  // have created and migrated (kFailedPrecondition otherwise, naming the
  // path). Like SqliteBackend, it refuses writes (kUnavailable) once the
  // path no longer names the file it opened.
  static absl::StatusOr<std::unique_ptr<SqliteApiKeyStore>> Open(
      const std::string& path, const Options& options);
  static absl::StatusOr<std::unique_ptr<SqliteApiKeyStore>> Open(
      const std::string& path) {
    return Open(path, Options());
  }

  SqliteApiKeyStore(const SqliteApiKeyStore&) = delete;
  SqliteApiKeyStore& operator=(const SqliteApiKeyStore&) = delete;
  ~SqliteApiKeyStore() override;

  // ApiKeyStore:
  absl::StatusOr<ApiKey> CreateApiKey(absl::string_view name, ApiKeyRole role,
                                      absl::string_view secret_sha256,
                                      absl::Time now,
                                      Creation creation) override;
  absl::StatusOr<Page<ApiKey>> ListApiKeys(const PageRequest& page) override;
  absl::StatusOr<std::vector<ApiKey>> LoadAllApiKeys() override;
  absl::StatusOr<ApiKey> RevokeApiKey(absl::string_view uuid,
                                      absl::Time now) override;
  absl::Status AppendAudit(const AuditEntry& entry) override;
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(int limit) override;

 private:
  SqliteApiKeyStore(std::unique_ptr<sqlite::Connection> db,
                    std::unique_ptr<sqlite::FileWatch> watch);

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  const std::unique_ptr<sqlite::Connection> db_ ABSL_GUARDED_BY(mu_);
  const std::unique_ptr<sqlite::FileWatch> watch_;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SQLITE_API_KEY_STORE_H_
