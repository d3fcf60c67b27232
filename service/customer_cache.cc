#include "service/customer_cache.h"

#include <iterator>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/hash/hash.h"

namespace recurrent::service {
namespace {

// What an entry costs beyond its strings: the list node, the index slot and
// the strings' headers (measured with the 100,000-customer benchmark
// database: RSS grows by about this much more than the strings per entry).
constexpr size_t kEntryOverhead = 160;

}  // namespace

CustomerCache::CustomerCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes) {}

size_t CustomerCache::SlotOf(absl::string_view uuid) {
  return absl::Hash<absl::string_view>()(uuid) % kGenerationSlots;
}

bool CustomerCache::Lookup(absl::string_view uuid, absl::Time t,
                           v1::Customer* out) {
  std::string serialized;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(uuid);
    if (it == index_.end() || t < it->second->from || t >= it->second->until) {
      ++misses_;
      return false;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    serialized = it->second->serialized;
  }
  // Parsed outside the lock; what we stored we serialized ourselves.
  if (out->ParseFromString(serialized)) return true;
  out->Clear();  // a miss leaves `out` as the caller will fill it: empty
  return false;
}

CustomerCache::Ticket CustomerCache::BeginFill(absl::string_view uuid) {
  Ticket ticket;
  ticket.slot = SlotOf(uuid);
  std::lock_guard<std::mutex> lock(mu_);
  ticket.clears = clears_;
  ticket.source_changes = source_changes_;
  ticket.generation = generations_[ticket.slot];
  return ticket;
}

void CustomerCache::Fill(const Ticket& ticket, const v1::Customer& customer,
                         absl::Span<const std::string> sources, absl::Time from,
                         absl::Time until) {
  if (capacity_bytes_ == 0 || from >= until) return;
  Entry entry;
  entry.uuid = customer.uuid();
  if (!customer.SerializeToString(&entry.serialized)) return;
  entry.sources.assign(sources.begin(), sources.end());
  entry.from = from;
  entry.until = until;
  entry.charge = entry.uuid.size() + entry.serialized.size() + kEntryOverhead;
  for (const std::string& source : entry.sources) {
    entry.charge += source.size() + sizeof(std::string);
  }
  if (entry.charge > capacity_bytes_) return;

  std::lock_guard<std::mutex> lock(mu_);
  if (ticket.clears != clears_ ||
      ticket.generation != generations_[ticket.slot]) {
    return;  // changed since the read began: what we have may be stale
  }
  if (ticket.source_changes != source_changes_) {
    for (const std::string& source : entry.sources) {
      auto it = source_changed_at_.find(source);
      if (it != source_changed_at_.end() &&
          it->second > ticket.source_changes) {
        return;  // read under the source's settings before their change
      }
    }
  }
  if (auto it = index_.find(entry.uuid); it != index_.end()) {
    EraseLocked(it->second);
  }
  bytes_ += entry.charge;
  lru_.push_front(std::move(entry));
  index_.emplace(lru_.front().uuid, lru_.begin());
  while (bytes_ > capacity_bytes_) EraseLocked(std::prev(lru_.end()));
}

void CustomerCache::Invalidate(
    absl::Span<const persistence::ChangeRow> changes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const persistence::ChangeRow& change : changes) {
    switch (change.kind) {
      case persistence::ChangeKind::kSourceChanged:
        source_changed_at_[change.data_source_uuid] = ++source_changes_;
        for (auto it = lru_.begin(); it != lru_.end();) {
          const auto next = std::next(it);
          if (absl::c_linear_search(it->sources, change.data_source_uuid)) {
            EraseLocked(it);
          }
          it = next;
        }
        break;
      case persistence::ChangeKind::kCustomerChanged:
        ++generations_[SlotOf(change.customer_uuid)];
        if (auto it = index_.find(change.customer_uuid); it != index_.end()) {
          EraseLocked(it->second);
        }
        break;
      default:
        // Status changes and events follow from time passing or from a
        // change reported by one of the kinds above: an entry is valid only
        // until its next transition anyway.
        break;
    }
  }
}

void CustomerCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  ++clears_;
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

void CustomerCache::CountBypass() {
  std::lock_guard<std::mutex> lock(mu_);
  ++bypasses_;
}

CustomerCache::Stats CustomerCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats stats;
  stats.hits = hits_;
  stats.misses = misses_;
  stats.bypasses = bypasses_;
  stats.entries = static_cast<int64_t>(index_.size());
  stats.bytes = static_cast<int64_t>(bytes_);
  return stats;
}

void CustomerCache::EraseLocked(Lru::iterator entry) {
  bytes_ -= entry->charge;
  index_.erase(absl::string_view(entry->uuid));
  lru_.erase(entry);
}

}  // namespace recurrent::service
