// ApiKeyStore: the durable home of API keys and of the audit log.
//
// Keys are never stored in clear: callers hash a new key (SHA-256, see
// service/api_keys.h) and pass only the hash. Every method is thread-safe;
// errors are absl::Status codes as in persistence/backend.h (kNotFound,
// kAlreadyExists, kUnavailable when the database is busy, kInternal), with
// messages safe to show to API callers.
//
// The store never reads the clock: callers pass `now`.
#ifndef RECURRENT_PERSISTENCE_API_KEY_STORE_H_
#define RECURRENT_PERSISTENCE_API_KEY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// Ordered: each role may do everything the roles below it may.
enum class ApiKeyRole {
  kReader = 1,  // every read
  kWriter = 2,  // reads; customers, invoices, transactions, cancellations, tags
  kAdmin = 3,   // everything: data sources, settings, deletes, merges, keys
};

struct ApiKey {
  std::string uuid;  // "key_…"; not secret
  std::string name;  // unique among all keys, revoked ones included
  ApiKeyRole role = ApiKeyRole::kReader;
  std::string secret_sha256;  // lowercase hex SHA-256 of the key
  absl::Time created_at;
  std::optional<absl::Time> revoked_at;  // set once revoked
};

// One line of the audit log.
struct AuditEntry {
  absl::Time at;
  std::string key_uuid;  // empty when the server ran without keys
  std::string key_name;
  std::string action;  // e.g. "CustomerService.DeleteCustomer"
  std::string target;  // e.g. "cus_…", or "cus_a -> cus_b" for a merge
};

class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;

  // Who a new key is for: any caller, or the first key of a server that
  // has none (created without authentication, so only while none exists).
  enum class Creation { kAny, kFirstOnly };

  // Stores a new key with a new uuid and created_at = now, and returns it.
  // kAlreadyExists if `name` (or, impossibly, the hash) is taken. With
  // kFirstOnly, kUnauthenticated (storing nothing) if any key exists, revoked
  // ones included; the check and the insert are one transaction, so of
  // concurrent first keys exactly one is stored.
  virtual absl::StatusOr<ApiKey> CreateApiKey(absl::string_view name,
                                              ApiKeyRole role,
                                              absl::string_view secret_sha256,
                                              absl::Time now,
                                              Creation creation) = 0;
  // Keys in creation order, revoked ones included; paging as in records.h.
  virtual absl::StatusOr<Page<ApiKey>> ListApiKeys(const PageRequest& page) = 0;
  // Every key, revoked ones included, in creation order (to build the
  // in-memory cache; keys are few).
  virtual absl::StatusOr<std::vector<ApiKey>> LoadAllApiKeys() = 0;
  // Sets revoked_at = now and returns the key; a key already revoked is
  // returned unchanged. kNotFound if there is no such key.
  virtual absl::StatusOr<ApiKey> RevokeApiKey(absl::string_view uuid,
                                              absl::Time now) = 0;

  // Appends `entry` to the audit log.
  virtual absl::Status AppendAudit(const AuditEntry& entry) = 0;
  // The last `limit` entries, oldest first.
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAudit(int limit) = 0;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_API_KEY_STORE_H_
