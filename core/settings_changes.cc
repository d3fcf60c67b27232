#include "core/settings_changes.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace recurrent::core {
namespace {

bool Before(const SubscriptionChange& a, const SubscriptionChange& b) {
  return std::tie(a.customer_uuid, a.subscription_uuid) <
         std::tie(b.customer_uuid, b.subscription_uuid);
}

}  // namespace

SubscriptionChanges::SubscriptionChanges(int limit)
    : limit_(static_cast<size_t>(std::max(0, limit))) {}

void SubscriptionChanges::Add(SubscriptionChange change) {
  if (heap_.size() < limit_) {
    heap_.push_back(std::move(change));
    std::push_heap(heap_.begin(), heap_.end(), Before);
    return;
  }
  ++not_listed_;
  if (heap_.empty() || !Before(change, heap_.front())) return;
  // `change` comes before the last one kept: it takes its place.
  std::pop_heap(heap_.begin(), heap_.end(), Before);
  heap_.back() = std::move(change);
  std::push_heap(heap_.begin(), heap_.end(), Before);
}

void SubscriptionChanges::Merge(SubscriptionChanges&& other) {
  not_listed_ += other.not_listed_;
  for (SubscriptionChange& change : other.heap_) Add(std::move(change));
  other.heap_.clear();
  other.not_listed_ = 0;
}

std::vector<SubscriptionChange> SubscriptionChanges::Take() && {
  std::sort_heap(heap_.begin(), heap_.end(), Before);
  return std::move(heap_);
}

}  // namespace recurrent::core
