#include "engine/comparison.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace recurrent::engine {
namespace {

// Identity of an event, ordinal aside.
auto KeyOf(const PublishedEvent& e) {
  return std::make_tuple(e.data_source_uuid, e.subscription_external_id, e.type,
                         e.occurred_at, e.status_after);
}

std::vector<PublishedEvent> Sorted(std::vector<PublishedEvent> events) {
  std::sort(events.begin(), events.end(),
            [](const PublishedEvent& a, const PublishedEvent& b) {
              return KeyOf(a) < KeyOf(b);
            });
  return events;
}

int64_t CountAutoChurns(const std::vector<PublishedEvent>& events) {
  return std::count_if(events.begin(), events.end(),
                       [](const PublishedEvent& e) {
                         return e.type == EventType::kAutoChurned;
                       });
}

// (source, subscription external id): how the engine names a subscription.
using Name = std::pair<absl::string_view, absl::string_view>;

Name NameOf(const SubscriptionComparison& s) {
  return {s.data_source_uuid, s.subscription_external_id};
}

// The entry of `sorted` (by name) named `name`, inserted if absent.
SubscriptionComparison& Entry(std::vector<SubscriptionComparison>& sorted,
                              Name name) {
  auto it = std::lower_bound(
      sorted.begin(), sorted.end(), name,
      [](const SubscriptionComparison& s, Name n) { return NameOf(s) < n; });
  if (it == sorted.end() || NameOf(*it) != name) {
    SubscriptionComparison entry;
    entry.data_source_uuid = name.first;
    entry.subscription_external_id = name.second;
    it = sorted.insert(it, std::move(entry));
  }
  return *it;
}

}  // namespace

Published PublishedAt(const CustomerTimeline& timeline, absl::Time t) {
  Published published;
  published.status = timeline.StatusAt(t);
  for (const CustomerTimeline::Subscription& subscription :
       timeline.subscriptions()) {
    for (const SubscriptionEvent& event : subscription.timeline.events()) {
      // Events are in time order.
      if (event.occurred_at > t) break;
      published.events.push_back(PublishedEvent{
          subscription.data_source_uuid, subscription.subscription_external_id,
          event.type, event.occurred_at, event.status_after, 0});
    }
  }
  return published;
}

Comparison Compare(const Published& before, const Published& after) {
  Comparison comparison;
  comparison.status_before = before.status;
  comparison.status_after = after.status;
  const std::vector<PublishedEvent> b = Sorted(before.events);
  const std::vector<PublishedEvent> a = Sorted(after.events);
  // Walk both in order, one group of identical events at a time.
  size_t i = 0;
  size_t j = 0;
  while (i < b.size() || j < a.size()) {
    const bool take_before =
        j == a.size() || (i < b.size() && !(KeyOf(a[j]) < KeyOf(b[i])));
    const PublishedEvent& head = take_before ? b[i] : a[j];
    size_t i_end = i;
    while (i_end < b.size() && KeyOf(b[i_end]) == KeyOf(head)) ++i_end;
    size_t j_end = j;
    while (j_end < a.size() && KeyOf(a[j_end]) == KeyOf(head)) ++j_end;
    const int kept = static_cast<int>(std::min(i_end - i, j_end - j));
    for (size_t k = j + kept; k < j_end; ++k) {
      PublishedEvent event = a[k];
      event.ordinal = static_cast<int>(k - j);
      comparison.appeared.push_back(event);
    }
    for (size_t k = i + kept; k < i_end; ++k) {
      PublishedEvent event = b[k];
      event.ordinal = static_cast<int>(k - i);
      comparison.disappeared.push_back(event);
    }
    i = i_end;
    j = j_end;
  }
  comparison.auto_churns_applied = CountAutoChurns(comparison.appeared);
  comparison.auto_churns_reversed = CountAutoChurns(comparison.disappeared);
  return comparison;
}

std::vector<SubscriptionComparison> CompareSubscriptions(
    const CustomerTimeline& before, const CustomerTimeline& after, absl::Time t,
    const Comparison& comparison) {
  std::vector<SubscriptionComparison> all;
  for (const CustomerTimeline::Subscription& s : before.subscriptions()) {
    Entry(all, {s.data_source_uuid, s.subscription_external_id}).status_before =
        s.timeline.StatusAt(t);
  }
  for (const CustomerTimeline::Subscription& s : after.subscriptions()) {
    Entry(all, {s.data_source_uuid, s.subscription_external_id}).status_after =
        s.timeline.StatusAt(t);
  }
  // appeared and disappeared are sorted by (name, type, occurred_at): each
  // subscription's auto-churns come oldest first.
  for (const PublishedEvent& e : comparison.appeared) {
    if (e.type != EventType::kAutoChurned) continue;
    Entry(all, {e.data_source_uuid, e.subscription_external_id})
        .auto_churns_applied.push_back(e.occurred_at);
  }
  for (const PublishedEvent& e : comparison.disappeared) {
    if (e.type != EventType::kAutoChurned) continue;
    Entry(all, {e.data_source_uuid, e.subscription_external_id})
        .auto_churns_reversed.push_back(e.occurred_at);
  }
  all.erase(std::remove_if(all.begin(), all.end(),
                           [](const SubscriptionComparison& s) {
                             return s.status_before == s.status_after &&
                                    s.auto_churns_applied.empty() &&
                                    s.auto_churns_reversed.empty();
                           }),
            all.end());
  return all;
}

}  // namespace recurrent::engine
