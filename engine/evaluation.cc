#include "engine/evaluation.h"

namespace recurrent::engine {

absl::string_view SubscriptionStatusName(SubscriptionStatus status) {
  switch (status) {
    case SubscriptionStatus::kNotStarted:
      return "NOT_STARTED";
    case SubscriptionStatus::kActive:
      return "ACTIVE";
    case SubscriptionStatus::kPastDue:
      return "PAST_DUE";
    case SubscriptionStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

absl::string_view CustomerStatusName(CustomerStatus status) {
  switch (status) {
    case CustomerStatus::kLead:
      return "LEAD";
    case CustomerStatus::kActive:
      return "ACTIVE";
    case CustomerStatus::kPastDue:
      return "PAST_DUE";
    case CustomerStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

absl::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kStarted:
      return "STARTED";
    case EventType::kPastDue:
      return "PAST_DUE";
    case EventType::kRecovered:
      return "RECOVERED";
    case EventType::kCancelled:
      return "CANCELLED";
    case EventType::kAutoChurned:
      return "AUTO_CHURNED";
    case EventType::kReactivated:
      return "REACTIVATED";
  }
  return "UNKNOWN";
}

bool operator==(const SubscriptionEvaluation& a,
                const SubscriptionEvaluation& b) {
  return a.data_source_uuid == b.data_source_uuid &&
         a.subscription_external_id == b.subscription_external_id &&
         a.status == b.status && a.started_at == b.started_at &&
         a.past_due_since == b.past_due_since &&
         a.cancelled_at == b.cancelled_at && a.auto_churned == b.auto_churned &&
         a.status_reason == b.status_reason &&
         a.current_period_start == b.current_period_start &&
         a.current_period_end == b.current_period_end && a.events == b.events;
}

bool operator==(const CustomerEvaluation& a, const CustomerEvaluation& b) {
  return a.evaluated_at == b.evaluated_at && a.status == b.status &&
         a.derived_tags == b.derived_tags &&
         a.subscriptions == b.subscriptions &&
         a.next_transition_at == b.next_transition_at;
}

}  // namespace recurrent::engine
