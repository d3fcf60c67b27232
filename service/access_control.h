// AccessControl: API keys, roles and the audit log of the server.
//
// Every RPC handler names the role it needs (service/dispatch.h), and
// Authorize() checks the call's "authorization: Bearer <key>" metadata
// against it before any request field is read or any storage is touched, so
// an error never reveals whether a resource exists:
//   - no key, or a malformed header      UNAUTHENTICATED
//   - an unknown or revoked key          UNAUTHENTICATED
//   - a key whose role is too low        PERMISSION_DENIED
//
// While no key has ever been created (a fresh database), every call is
// allowed without a key: the server only runs like that on a loopback
// address or with --allow_unauthenticated (service/server.h). The first key
// created switches authentication on for good; revoking every key does not
// switch it off again (recurrentd --create_api_key makes a new one).
//
// Keys are "rk_" followed by 64 hex digits (256 bits from OpenSSL's
// RAND_bytes). Only their SHA-256 is stored (persistence/api_key_store.h)
// and kept in memory, indexed by its first 8 bytes so that a look-up is one
// hash-map probe; the full digest is then compared in constant time
// (CRYPTO_memcmp). The in-memory set is loaded at start and kept current by
// CreateKey and RevokeKey; keys created or revoked by another process (a
// replica on the same PostgreSQL database, recurrentd --create_api_key) take
// effect at the next Reload(), which the server runs every second.
//
// Thread-safe. Authorize() takes a shared lock and never blocks on I/O, so
// it may run on gRPC's callback threads.
#ifndef RECURRENT_SERVICE_ACCESS_CONTROL_H_
#define RECURRENT_SERVICE_ACCESS_CONTROL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "persistence/api_key_store.h"

namespace recurrent::service {

using Role = persistence::ApiKeyRole;

// "reader", "writer" or "admin".
absl::string_view RoleName(Role role);

// Who made a call.
struct Caller {
  std::string key_uuid;  // empty when the server runs without keys
  std::string key_name;  // empty when the server runs without keys
};

// A key as CreateKey returns it: the secret is never available again.
struct CreatedKey {
  std::string secret;  // "rk_…", to send as "authorization: Bearer rk_…"
  persistence::ApiKey key;
};

// A new random key secret ("rk_" + 64 lowercase hex digits).
// kInternal if the system's random source fails.
absl::StatusOr<std::string> NewApiKeySecret();

// Lowercase hex SHA-256 of `text`: how keys are stored.
std::string Sha256Hex(absl::string_view text);

class AccessControl {
 public:
  // Loads every key of `store` (not owned; must outlive this object). A null
  // `store` means no key exists or can be created (CreateKey fails with
  // kFailedPrecondition) and every call is allowed.
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(
      persistence::ApiKeyStore* store);

  AccessControl(const AccessControl&) = delete;
  AccessControl& operator=(const AccessControl&) = delete;

  // True once any key has been created, even if every key is revoked since:
  // then every call needs a key.
  bool HasKeys() const;

  // Checks the call's metadata for `required` (see the file comment) and
  // returns the caller.
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& context,
                                   Role required) const;
  // The same on the values of the call's "authorization" metadata (none,
  // one, or more than one, which is refused).
  absl::StatusOr<Caller> AuthorizeHeaders(
      const std::vector<absl::string_view>& authorization, Role required) const;

  // Creates and stores a key; the secret is in the result only.
  // kAlreadyExists if the name is taken. With kFirstOnly (a call made
  // without a key), kUnauthenticated if a key exists; checks see the new key
  // from the moment it is committed, so a call arriving after the first key
  // is authenticated.
  absl::StatusOr<CreatedKey> CreateKey(
      absl::string_view name, Role role, absl::Time now,
      persistence::ApiKeyStore::Creation creation =
          persistence::ApiKeyStore::Creation::kAny);
  // Revokes a key; calls with it fail from the moment this returns.
  // kNotFound if there is no such key.
  absl::StatusOr<persistence::ApiKey> RevokeKey(absl::string_view uuid,
                                                absl::Time now);
  // Replaces the in-memory keys with the store's, so that keys created or
  // revoked by another process take effect. Returns true if a key that was
  // active is not any more (see OnRevoked). A reload that overlaps this
  // object's own CreateKey or RevokeKey is dropped (false); the next one
  // sees both. Reads the database: never call it on gRPC's callback threads.
  absl::StatusOr<bool> Reload();
  // `fn` runs after a key stops being active (RevokeKey, or a Reload that
  // found a revocation), outside this object's lock; e.g. to end the change
  // feed's streams opened with it. Call before the server starts.
  void OnRevoked(std::function<void()> fn);

  // Keys as stored (never their secrets). kFailedPrecondition without a
  // store.
  absl::StatusOr<persistence::Page<persistence::ApiKey>> ListKeys(
      const persistence::PageRequest& page) const;

  // Records that `caller` did `action` (e.g. "CustomerService.DeleteCustomer")
  // on `target`, in the audit log and on stderr. Called after the action
  // succeeded; a failure to record is logged, not returned (the action is
  // done and must not be retried).
  void Audit(const Caller& caller, absl::string_view action,
             absl::string_view target, absl::Time now) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct ActiveKey {
    Digest digest;
    std::string uuid;
    std::string name;
    Role role;
  };

  explicit AccessControl(persistence::ApiKeyStore* store) : store_(store) {}

  // Adds a key to the in-memory index unless it is revoked (or revoked by
  // this object) or already there.
  void IndexLocked(const persistence::ApiKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The active key whose secret is `secret`, if any.
  const ActiveKey* FindLocked(absl::string_view secret) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  persistence::ApiKeyStore* const store_;
  // std::shared_mutex rather than absl::Mutex: ThreadSanitizer sees pthread
  // locks, and Debian's Abseil is not built with its annotations.
  mutable std::shared_mutex mu_;
  bool has_keys_ ABSL_GUARDED_BY(mu_) = false;
  // Active keys by the first 8 bytes of their digest.
  absl::flat_hash_map<uint64_t, std::vector<ActiveKey>> active_
      ABSL_GUARDED_BY(mu_);
  // Keys RevokeKey revoked: a CreateKey that stored one of them before the
  // revocation does not index it after.
  absl::flat_hash_set<std::string> revoked_here_ ABSL_GUARDED_BY(mu_);
  // Keys whose malformed hash was logged.
  absl::flat_hash_set<std::string> malformed_logged_ ABSL_GUARDED_BY(mu_);
  // Counts CreateKey's and RevokeKey's changes to the index, so that a
  // Reload read before one of them does not undo it.
  int64_t local_changes_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> on_revoked_;  // set before the server starts
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_ACCESS_CONTROL_H_
