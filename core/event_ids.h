// Event uuids: derived from what an event is, so that an event that stays
// the same across recomputes keeps its uuid, and its publication and
// retraction in the change log carry the uuid ListSubscriptionEvents shows.
#ifndef RECURRENT_CORE_EVENT_IDS_H_
#define RECURRENT_CORE_EVENT_IDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"

namespace recurrent::core {

// The uuid ("evt_…") of the event of subscription `subscription_uuid` of
// `type` at `occurred_at` (microseconds), the `ordinal`-th (from 0) among
// identical events of the subscription. Stable across processes and
// releases.
std::string EventUuid(absl::string_view subscription_uuid,
                      engine::EventType type, absl::Time occurred_at,
                      int ordinal);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_EVENT_IDS_H_
