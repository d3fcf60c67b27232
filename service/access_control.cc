#include "service/access_control.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace recurrent::service {
namespace {

constexpr absl::string_view kSecretPrefix = "rk_";
constexpr int kSecretBytes = 32;  // 256 bits

std::array<unsigned char, 32> Sha256(absl::string_view text) {
  std::array<unsigned char, 32> digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest.data());
  return digest;
}

uint64_t PrefixOf(const std::array<unsigned char, 32>& digest) {
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | digest[i];
  return prefix;
}

absl::Status MissingKey() {
  return common::WithReason(absl::UnauthenticatedError(
                                "this call needs an API key: send the metadata "
                                "\"authorization: Bearer <key>\""),
                            common::reason::kApiKeyMissing);
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<std::string> NewApiKeySecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, kSecretBytes) != 1) {
    return absl::InternalError("the system's random source failed");
  }
  std::string secret = absl::StrCat(
      kSecretPrefix, absl::BytesToHexString(absl::string_view(
                         reinterpret_cast<const char*>(bytes), kSecretBytes)));
  OPENSSL_cleanse(bytes, kSecretBytes);
  return secret;
}

std::string Sha256Hex(absl::string_view text) {
  const std::array<unsigned char, 32> digest = Sha256(text);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    persistence::ApiKeyStore* store) {
  std::unique_ptr<AccessControl> access(new AccessControl(store));
  if (store == nullptr) return access;
  RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::ApiKey> keys,
                             store->LoadAllApiKeys());
  std::unique_lock<std::shared_mutex> lock(access->mu_);
  for (const persistence::ApiKey& key : keys) access->IndexLocked(key);
  return access;
}

bool AccessControl::HasKeys() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return has_keys_;
}

void AccessControl::IndexLocked(const persistence::ApiKey& key) {
  has_keys_ = true;
  if (key.revoked_at.has_value() || revoked_here_.contains(key.uuid)) return;
  std::string bytes = absl::HexStringToBytes(key.secret_sha256);
  ActiveKey active;
  if (bytes.size() != active.digest.size()) {
    // Cannot match any secret; say so rather than ignore it silently (once,
    // not at every reload).
    if (malformed_logged_.insert(key.uuid).second) {
      log::Error("an API key has a malformed hash; it is ignored",
                 {{"key", key.uuid}});
    }
    return;
  }
  std::memcpy(active.digest.data(), bytes.data(), bytes.size());
  std::vector<ActiveKey>& bucket = active_[PrefixOf(active.digest)];
  for (const ActiveKey& indexed : bucket) {
    if (indexed.uuid == key.uuid) return;
  }
  active.uuid = key.uuid;
  active.name = key.name;
  active.role = key.role;
  bucket.push_back(std::move(active));
}

absl::StatusOr<bool> AccessControl::Reload() {
  if (store_ == nullptr) return false;
  int64_t changes_before;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    changes_before = local_changes_;
  }
  RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::ApiKey> keys,
                             store_->LoadAllApiKeys());
  bool revoked = false;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (local_changes_ != changes_before) return false;
    absl::flat_hash_map<uint64_t, std::vector<ActiveKey>> before =
        std::move(active_);
    active_.clear();
    for (const persistence::ApiKey& key : keys) IndexLocked(key);
    for (const auto& [prefix, old_keys] : before) {
      auto now = active_.find(prefix);
      for (const ActiveKey& key : old_keys) {
        if (now == active_.end() ||
            std::none_of(now->second.begin(), now->second.end(),
                         [&](const ActiveKey& active) {
                           return active.uuid == key.uuid;
                         })) {
          revoked = true;
        }
      }
    }
  }
  if (revoked && on_revoked_) on_revoked_();
  return revoked;
}

void AccessControl::OnRevoked(std::function<void()> fn) {
  on_revoked_ = std::move(fn);
}

const AccessControl::ActiveKey* AccessControl::FindLocked(
    absl::string_view secret) const {
  const Digest digest = Sha256(secret);
  auto bucket = active_.find(PrefixOf(digest));
  if (bucket == active_.end()) return nullptr;
  for (const ActiveKey& key : bucket->second) {
    if (CRYPTO_memcmp(key.digest.data(), digest.data(), digest.size()) == 0) {
      return &key;
    }
  }
  return nullptr;
}

absl::StatusOr<Caller> AccessControl::Authorize(
    const grpc::ServerContextBase& context, Role required) const {
  std::vector<absl::string_view> values;
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    values.emplace_back(it->second.data(), it->second.size());
  }
  return AuthorizeHeaders(values, required);
}

absl::StatusOr<Caller> AccessControl::AuthorizeHeaders(
    const std::vector<absl::string_view>& authorization, Role required) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (authorization.empty()) {
    if (!has_keys_) return Caller{};
    return MissingKey();
  }
  if (authorization.size() > 1) {
    return common::WithReason(
        absl::UnauthenticatedError(
            "send one \"authorization\" metadata entry, not several"),
        common::reason::kApiKeyMalformed);
  }
  absl::string_view value = absl::StripAsciiWhitespace(authorization[0]);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(value, kScheme)) {
    return common::WithReason(
        absl::UnauthenticatedError(
            "the \"authorization\" metadata must read \"Bearer <key>\""),
        common::reason::kApiKeyMalformed);
  }
  value.remove_prefix(kScheme.size());
  const ActiveKey* key = FindLocked(absl::StripLeadingAsciiWhitespace(value));
  if (key == nullptr) {
    return common::WithReason(
        absl::UnauthenticatedError("unknown or revoked API key"),
        common::reason::kApiKeyInvalid);
  }
  if (static_cast<int>(key->role) < static_cast<int>(required)) {
    return common::WithReason(
        absl::PermissionDeniedError(absl::StrCat(
            "API key \"", key->name, "\" has role ", RoleName(key->role),
            "; this call needs ", RoleName(required))),
        common::reason::kApiKeyRoleTooLow,
        {{"role", std::string(RoleName(key->role))},
         {"required_role", std::string(RoleName(required))}});
  }
  return Caller{key->uuid, key->name};
}

absl::StatusOr<CreatedKey> AccessControl::CreateKey(
    absl::string_view name, Role role, absl::Time now,
    persistence::ApiKeyStore::Creation creation) {
  if (store_ == nullptr) {
    return absl::FailedPreconditionError("this server cannot store API keys");
  }
  CreatedKey created;
  RECURRENT_ASSIGN_OR_RETURN(created.secret, NewApiKeySecret());
  // The first key is stored under the lock that Authorize reads has_keys_
  // under: no call is let in without a key once that key is committed.
  // Later keys are stored without it (they change no one's access until
  // indexed, and checks should not wait on a write).
  std::unique_lock<std::shared_mutex> lock(mu_, std::defer_lock);
  if (creation == persistence::ApiKeyStore::Creation::kFirstOnly) lock.lock();
  RECURRENT_ASSIGN_OR_RETURN(
      created.key, store_->CreateApiKey(name, role, Sha256Hex(created.secret),
                                        now, creation));
  if (!lock.owns_lock()) lock.lock();
  IndexLocked(created.key);
  ++local_changes_;
  return created;
}

absl::StatusOr<persistence::ApiKey> AccessControl::RevokeKey(
    absl::string_view uuid, absl::Time now) {
  if (store_ == nullptr) {
    return common::ResourceNotFound("api_key", uuid);
  }
  RECURRENT_ASSIGN_OR_RETURN(persistence::ApiKey key,
                             store_->RevokeApiKey(uuid, now));
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    for (auto& [prefix, keys] : active_) {
      keys.erase(std::remove_if(keys.begin(), keys.end(),
                                [&](const ActiveKey& active) {
                                  return active.uuid == uuid;
                                }),
                 keys.end());
    }
    revoked_here_.insert(key.uuid);
    ++local_changes_;
  }
  if (on_revoked_) on_revoked_();
  return key;
}

absl::StatusOr<persistence::Page<persistence::ApiKey>> AccessControl::ListKeys(
    const persistence::PageRequest& page) const {
  if (store_ == nullptr) return persistence::Page<persistence::ApiKey>{};
  return store_->ListApiKeys(page);
}

void AccessControl::Audit(const Caller& caller, absl::string_view action,
                          absl::string_view target, absl::Time now) const {
  const std::string who = caller.key_name.empty()
                              ? std::string("(no key)")
                              : absl::StrCat("key \"", caller.key_name, "\" (",
                                             caller.key_uuid, ")");
  log::Info("audit", {{"who", who},
                      {"action", std::string(action)},
                      {"target", std::string(target)}});
  if (store_ == nullptr) return;
  persistence::AuditEntry entry{now, caller.key_uuid, caller.key_name,
                                std::string(action), std::string(target)};
  absl::Status recorded = store_->AppendAudit(entry);
  if (!recorded.ok()) {
    log::Error("cannot record an audit entry",
               {{"error", recorded.ToString()}});
  }
}

}  // namespace recurrent::service
