// PostgresApiKeyStore: ApiKeyStore over the same PostgreSQL database as the
// PostgreSQL backend (tables api_keys and audit_log, schema migration 5).
//
//   // The backend's Open() migrates the database:
//   RECURRENT_ASSIGN_OR_RETURN(auto keys, PostgresApiKeyStore::Open(uri));
//
// It has a connection of its own, used under a mutex; key management and
// audit entries are rare. Each call runs in a transaction of its own. Key
// creations take a transaction-scoped advisory lock
// (postgres::kLockClassApiKeys), so that, across every process sharing the
// database, "create the first key only while none exists" is one atomic
// step. A lost connection fails the call in progress (kUnavailable) and is
// reopened by the next call.
//
// Thread-safe.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_API_KEY_STORE_H_
#define RECURRENT_PERSISTENCE_POSTGRES_API_KEY_STORE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/api_key_store.h"

namespace recurrent::persistence {

namespace postgres {
class Connection;
}  // namespace postgres

class PostgresApiKeyStore final : public ApiKeyStore {
 public:
  struct Options {
    // Only read keys (as PostgresBackend::Options::read_only): creating or
    // revoking a key, and auditing, fail with kFailedPrecondition.
    bool read_only = false;
  };

  // Connects to the database at `uri` (a libpq connection URI or key=value
  // string), which the PostgreSQL backend must already have migrated
  // (kFailedPrecondition otherwise). kUnavailable if the server cannot be
  // reached.
  static absl::StatusOr<std::unique_ptr<PostgresApiKeyStore>> Open(
      const std::string& uri, const Options& options);
  static absl::StatusOr<std::unique_ptr<PostgresApiKeyStore>> Open(
      const std::string& uri) {
    return Open(uri, Options());
  }

  PostgresApiKeyStore(const PostgresApiKeyStore&) = delete;
  PostgresApiKeyStore& operator=(const PostgresApiKeyStore&) = delete;
  ~PostgresApiKeyStore() override;

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
  PostgresApiKeyStore(std::string uri, const Options& options,
                      std::unique_ptr<postgres::Connection> db);

  // The connection, reopened first if it was lost. kUnavailable if the
  // server cannot be reached.
  absl::StatusOr<postgres::Connection*> Live()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string uri_;
  const Options options_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  std::unique_ptr<postgres::Connection> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_POSTGRES_API_KEY_STORE_H_
