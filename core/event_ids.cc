#include "core/event_ids.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace recurrent::core {
namespace {

// Part of every event uuid ever derived: never change these numbers.
int64_t EventTypeNumber(engine::EventType type) {
  switch (type) {
    case engine::EventType::kStarted:
      return 1;
    case engine::EventType::kPastDue:
      return 2;
    case engine::EventType::kRecovered:
      return 3;
    case engine::EventType::kCancelled:
      return 4;
    case engine::EventType::kAutoChurned:
      return 5;
    case engine::EventType::kReactivated:
      return 6;
  }
  return 0;
}

// Part of the uuids of events that lead elsewhere than their type usually
// does: never change these numbers either.
int64_t StatusNumber(engine::SubscriptionStatus status) {
  switch (status) {
    case engine::SubscriptionStatus::kNotStarted:
      return 1;
    case engine::SubscriptionStatus::kActive:
      return 2;
    case engine::SubscriptionStatus::kPastDue:
      return 3;
    case engine::SubscriptionStatus::kCancelled:
      return 4;
  }
  return 0;
}

// Where events of `type` led when uuids were derived from the type alone.
// Not a status rule (the engine decides status_after): it only keeps the
// uuids derived then.
engine::SubscriptionStatus UsualStatusAfter(engine::EventType type) {
  switch (type) {
    case engine::EventType::kPastDue:
      return engine::SubscriptionStatus::kPastDue;
    case engine::EventType::kCancelled:
    case engine::EventType::kAutoChurned:
      return engine::SubscriptionStatus::kCancelled;
    case engine::EventType::kStarted:
    case engine::EventType::kRecovered:
    case engine::EventType::kReactivated:
      break;
  }
  return engine::SubscriptionStatus::kActive;
}

}  // namespace

std::string EventUuid(absl::string_view subscription_uuid,
                      engine::EventType type,
                      engine::SubscriptionStatus status_after,
                      absl::Time occurred_at, int ordinal) {
  std::string key =
      absl::StrCat(subscription_uuid, "/", EventTypeNumber(type), "/",
                   absl::ToUnixMicros(occurred_at), "/", ordinal);
  if (status_after != UsualStatusAfter(type)) {
    absl::StrAppend(&key, "/", StatusNumber(status_after));
  }
  return common::DerivedId(common::kEventIdPrefix, key);
}

}  // namespace recurrent::core
