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
// `type` at `occurred_at` (microseconds) leading to `status_after`, the
// `ordinal`-th (from 0) among identical events of the subscription. An
// event that differs in any of these has another uuid. Stable across
// processes and releases: an event that leads where its type usually does
// (ACTIVE after STARTED, RECOVERED and REACTIVATED; PAST_DUE after PAST_DUE;
// CANCELLED after CANCELLED and AUTO_CHURNED) keeps the uuid derived before
// events carried status_after, so the uuids of stored and published events
// stay valid across the schema migration that added it.
std::string EventUuid(absl::string_view subscription_uuid,
                      engine::EventType type,
                      engine::SubscriptionStatus status_after,
                      absl::Time occurred_at, int ordinal);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_EVENT_IDS_H_
