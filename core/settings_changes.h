// The subscriptions a settings change changes, as UpdateSettings lists them
// (its list_changes): each with its status now before and after, and the
// auto-churns the change applies and reverses.
//
// A change may concern millions of subscriptions; only the first
// kMaxListedSettingsChanges by (customer uuid, subscription uuid) are kept,
// and the others are counted. The reprocess collects them per chunk of
// customers and merges the chunks (core/reprocess.h), so memory stays
// bounded:
//
//   SubscriptionChanges changes(kMaxListedSettingsChanges);
//   changes.Add(change);             // per changed subscription
//   total.Merge(std::move(changes)); // per chunk
//   std::vector<SubscriptionChange> listed = std::move(total).Take();
//   total.not_listed();              // the others
#ifndef RECURRENT_CORE_SETTINGS_CHANGES_H_
#define RECURRENT_CORE_SETTINGS_CHANGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/evaluation.h"

namespace recurrent::core {

// Most subscription changes a settings change lists (the API's
// UpdateSettingsResponse.changes); the others are only counted.
inline constexpr int kMaxListedSettingsChanges = 1000;

// How one subscription changes under new settings: its status now differs,
// or it gains or loses auto-churns (events at or before now).
struct SubscriptionChange {
  std::string subscription_uuid;
  std::string subscription_external_id;
  std::string customer_uuid;
  std::string customer_external_id;  // in the customer's primary source
  engine::SubscriptionStatus status_before =
      engine::SubscriptionStatus::kNotStarted;
  engine::SubscriptionStatus status_after =
      engine::SubscriptionStatus::kNotStarted;
  // The instants of the auto-churns the change applies and reverses, oldest
  // first.
  std::vector<absl::Time> auto_churns_added;
  std::vector<absl::Time> auto_churns_removed;
};

// The first `limit` changes added, by (customer_uuid, subscription_uuid),
// and how many others were added. Not thread-safe; movable.
class SubscriptionChanges {
 public:
  // `limit` >= 0 (0 keeps none and only counts).
  explicit SubscriptionChanges(int limit);

  void Add(SubscriptionChange change);
  // Adds every change `other` kept and counts the ones it left out.
  void Merge(SubscriptionChanges&& other);

  // How many changes added are not kept.
  int64_t not_listed() const { return not_listed_; }
  // The changes kept, sorted by (customer_uuid, subscription_uuid).
  std::vector<SubscriptionChange> Take() &&;

 private:
  size_t limit_;
  // A max-heap by the order above: its top is the first to drop.
  std::vector<SubscriptionChange> heap_;
  int64_t not_listed_ = 0;
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_SETTINGS_CHANGES_H_
