#include "engine/customer_reason.h"

#include "absl/strings/str_cat.h"
#include "engine/status_reason.h"

namespace recurrent::engine {
namespace {

SubscriptionStatus SubscriptionStatusOf(CustomerStatus status) {
  switch (status) {
    case CustomerStatus::kPastDue:
      return SubscriptionStatus::kPastDue;
    case CustomerStatus::kActive:
      return SubscriptionStatus::kActive;
    case CustomerStatus::kCancelled:
      return SubscriptionStatus::kCancelled;
    case CustomerStatus::kLead:
      break;
  }
  return SubscriptionStatus::kNotStarted;
}

// Whether `a` decides before `b` (both have the customer's status); on a
// tie the earlier in creation order (the one already chosen) stays.
bool DecidesBefore(CustomerStatus status, const SubscriptionEvaluation& a,
                   const SubscriptionEvaluation& b) {
  switch (status) {
    case CustomerStatus::kPastDue:
      return a.past_due_since.value_or(absl::InfiniteFuture()) <
             b.past_due_since.value_or(absl::InfiniteFuture());
    case CustomerStatus::kCancelled:
      return a.cancelled_at.value_or(absl::InfinitePast()) >
             b.cancelled_at.value_or(absl::InfinitePast());
    case CustomerStatus::kActive:
    case CustomerStatus::kLead:
      break;
  }
  return false;
}

}  // namespace

std::optional<size_t> DecidingSubscription(
    CustomerStatus status,
    absl::Span<const SubscriptionForReason> subscriptions) {
  const SubscriptionStatus wanted = SubscriptionStatusOf(status);
  if (wanted == SubscriptionStatus::kNotStarted) return std::nullopt;
  std::optional<size_t> best;
  for (size_t i = 0; i < subscriptions.size(); ++i) {
    const SubscriptionEvaluation& s = *subscriptions[i].evaluation;
    if (s.status != wanted) continue;
    if (!best.has_value() ||
        DecidesBefore(status, s, *subscriptions[*best].evaluation)) {
      best = i;
    }
  }
  return best;
}

std::string CustomerStatusReason(
    CustomerStatus status,
    absl::Span<const SubscriptionForReason> subscriptions) {
  if (status != CustomerStatus::kLead) {
    const std::optional<size_t> deciding =
        DecidingSubscription(status, subscriptions);
    if (!deciding.has_value()) return "";
    const SubscriptionEvaluation& s = *subscriptions[*deciding].evaluation;
    return absl::StrCat("Subscription ", s.subscription_external_id, ": ",
                        s.status_reason);
  }
  const SubscriptionForReason* first = nullptr;
  for (const SubscriptionForReason& s : subscriptions) {
    if (!s.starts_at.has_value()) continue;
    if (first == nullptr || *s.starts_at < *first->starts_at) first = &s;
  }
  if (first == nullptr) return "No subscription has started yet.";
  return absl::StrCat("No subscription has started yet: subscription ",
                      first->evaluation->subscription_external_id, " starts ",
                      FormatInstant(*first->starts_at), ".");
}

}  // namespace recurrent::engine
