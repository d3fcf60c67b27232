// CustomerCache: GetCustomer answers kept in memory, so that reading an
// unchanged customer costs no SQLite statement and no evaluation.
//
//   CustomerCache::Ticket ticket = cache.BeginFill(uuid);  // before reading
//   ... read the snapshot, evaluate at `now`, build `customer` ...
//   cache.Fill(ticket, customer, now, next_change_at);
//   ...
//   if (cache.Lookup(uuid, now, &response)) return;  // a later call
//
// An entry is a v1::Customer (serialized) as the engine evaluated the
// customer's facts at an instant `from`, with the instant `until` at which
// that answer next changes: its next transition or its next MRR movement
// (core::EvaluatedCustomer::next_change_at), whichever comes first. The
// engine's answer is constant on [from, until), so the entry
// is exact for any instant in it for as long as the customer's facts, fields
// and settings are unchanged. Every committed change of those is a row of
// the change log (persistence::ChangeKind kCustomerChanged, kSourceChanged);
// the cache follows the log (core::ChangeFollower → Invalidate) and drops
// the entries concerned, at once for this process's writes and within the
// follower's poll interval for other processes'. A source's change drops
// only the entries of customers with an external id or an invoice in it
// (each entry keeps those sources: core::EvaluatedCustomer::sources), so
// that a settings change of one source leaves the others' answers cached.
//
// A change can commit between a reader's snapshot and its Fill; the entry
// would then be stale. So Fill takes a ticket issued before the read, and is
// ignored if a change of that customer (or of one of its sources) was
// reported after the ticket was issued.
//
// Bounded by bytes (keys, serialized messages and bookkeeping); the least
// recently used entries are dropped first. Thread-safe.
#ifndef RECURRENT_SERVICE_CUSTOMER_CACHE_H_
#define RECURRENT_SERVICE_CUSTOMER_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "persistence/records.h"
#include "recurrent/v1/customer.pb.h"

namespace recurrent::service {

class CustomerCache {
 public:
  // Holds at most `capacity_bytes`; 0 caches nothing.
  explicit CustomerCache(size_t capacity_bytes);
  CustomerCache(const CustomerCache&) = delete;
  CustomerCache& operator=(const CustomerCache&) = delete;

  // Copies into `out` (which must be empty) the entry for `uuid` if one is
  // valid at `t`; false otherwise, with `out` still empty.
  bool Lookup(absl::string_view uuid, absl::Time t, v1::Customer* out);

  // Taken before reading what a Fill of `uuid` will store.
  struct Ticket {
    uint64_t clears = 0;
    uint64_t source_changes = 0;
    uint64_t generation = 0;
    size_t slot = 0;
  };
  Ticket BeginFill(absl::string_view uuid);
  // Stores `customer` (its uuid is the key), whose answer depends on the
  // settings of `sources`, as valid on [from, until), unless a change of it
  // or of one of `sources` was reported since `ticket` was taken.
  void Fill(const Ticket& ticket, const v1::Customer& customer,
            absl::Span<const std::string> sources, absl::Time from,
            absl::Time until);

  // Drops the entries of the customers that `changes` (change-log rows)
  // report changed, and those with a changed source among their sources,
  // and voids their tickets. A source's change looks through every entry:
  // settings changes are rare.
  void Invalidate(absl::Span<const persistence::ChangeRow> changes);
  // Drops every entry and voids every ticket: for when change-log rows were
  // lost before they were read (core::ChangeFollower::OnRowsLost).
  void Clear();

  // Counts a read that did not look in the cache because its entries may be
  // stale (the change follower lags: core::ChangeFollower::UpToDate).
  void CountBypass();

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t bypasses = 0;  // CountBypass calls
    int64_t entries = 0;
    int64_t bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string uuid;
    std::string serialized;  // v1::Customer
    std::vector<std::string> sources;
    absl::Time from;
    absl::Time until;
    size_t charge = 0;
  };
  using Lru = std::list<Entry>;  // most recently used first

  // Tickets of customers hashing to the same slot share a generation: a
  // change voids the fills of a few other customers too, which only costs a
  // miss.
  static constexpr size_t kGenerationSlots = 4096;
  static size_t SlotOf(absl::string_view uuid);

  void EraseLocked(Lru::iterator entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_bytes_;
  mutable std::mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  // Keys point into the entries' `uuid`, which list nodes keep in place.
  absl::flat_hash_map<absl::string_view, Lru::iterator> index_
      ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Source changes reported so far, and for each changed source the count
  // when it last changed (tickets older than that are void for its
  // customers).
  uint64_t source_changes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t clears_ ABSL_GUARDED_BY(mu_) = 0;  // Clear() calls so far
  absl::flat_hash_map<std::string, uint64_t> source_changed_at_
      ABSL_GUARDED_BY(mu_);
  std::array<uint64_t, kGenerationSlots> generations_ ABSL_GUARDED_BY(mu_){};
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bypasses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CUSTOMER_CACHE_H_
