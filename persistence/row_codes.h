// Stable integer codes of the enums backends store.
//
// Columns never hold a C++ enum's underlying value: each enum maps to codes
// fixed here forever (a released code is never reused or renumbered), so
// that reordering an enum cannot change the meaning of stored rows. Reading
// a code this build does not know is kInternal (a newer or corrupt
// database).
//
// (Retired: settings_versions.past_due_mode, KEEP = 1, AUTO_CHURN = 2, until
// schema migration 5 replaced it with the settings record.)
#ifndef RECURRENT_PERSISTENCE_ROW_CODES_H_
#define RECURRENT_PERSISTENCE_ROW_CODES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/mrr_types.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// LEAD = 1, ACTIVE = 2, PAST_DUE = 3, CANCELLED = 4.
int64_t CustomerStatusCode(engine::CustomerStatus status);
absl::StatusOr<engine::CustomerStatus> CustomerStatusFromCode(int64_t code);

// NOT_STARTED = 1, ACTIVE = 2, PAST_DUE = 3, CANCELLED = 4.
int64_t SubscriptionStatusCode(engine::SubscriptionStatus status);
absl::StatusOr<engine::SubscriptionStatus> SubscriptionStatusFromCode(
    int64_t code);

// STARTED = 1, PAST_DUE = 2, RECOVERED = 3, CANCELLED = 4, AUTO_CHURNED = 5,
// REACTIVATED = 6.
int64_t EventTypeCode(engine::EventType type);
absl::StatusOr<engine::EventType> EventTypeFromCode(int64_t code);

// NEW_BUSINESS = 1, EXPANSION = 2, CONTRACTION = 3, CHURN = 4,
// REACTIVATION = 5 (the API's MrrMovementType numbers).
int64_t MrrMovementTypeCode(engine::MrrMovementType type);
absl::StatusOr<engine::MrrMovementType> MrrMovementTypeFromCode(int64_t code);

// SUBSCRIPTION = 1, ONE_TIME = 2, TRIAL = 3.
int64_t LineItemTypeCode(engine::LineItemType type);
absl::StatusOr<engine::LineItemType> LineItemTypeFromCode(int64_t code);

// PAYMENT = 1, REFUND = 2.
int64_t TransactionTypeCode(engine::TransactionType type);
absl::StatusOr<engine::TransactionType> TransactionTypeFromCode(int64_t code);

// SUCCESSFUL = 1, FAILED = 2.
int64_t TransactionResultCode(engine::TransactionResult result);
absl::StatusOr<engine::TransactionResult> TransactionResultFromCode(
    int64_t code);

// ChangeKind's own numbers (records.h: stored, never renumbered).
int64_t ChangeKindCode(ChangeKind kind);
absl::StatusOr<ChangeKind> ChangeKindFromCode(int64_t code);

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_ROW_CODES_H_
