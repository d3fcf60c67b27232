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

}  // namespace

std::string EventUuid(absl::string_view subscription_uuid,
                      engine::EventType type, absl::Time occurred_at,
                      int ordinal) {
  return common::DerivedId(
      common::kEventIdPrefix,
      absl::StrCat(subscription_uuid, "/", EventTypeNumber(type), "/",
                   absl::ToUnixMicros(occurred_at), "/", ordinal));
}

}  // namespace recurrent::core
