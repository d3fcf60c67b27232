// Write: one backend write transaction as the core uses it, with the
// change-log rows appended in it.
//
// Store (core/store.h) runs every write call as a function of a Write;
// GroupCommit (core/group_commit.h) may run several such functions in one
// Write, each between a savepoint and its release or rollback.
//
// Not thread-safe: one thread uses a Write at a time.
#ifndef RECURRENT_CORE_WRITE_H_
#define RECURRENT_CORE_WRITE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/recompute.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "persistence/backend.h"
#include "persistence/records.h"

namespace recurrent::core {

class Write {
 public:
  explicit Write(std::unique_ptr<persistence::WriteTransaction> txn)
      : txn_(std::move(txn)) {}

  Write(const Write&) = delete;
  Write& operator=(const Write&) = delete;

  persistence::WriteTransaction& txn() { return *txn_; }

  // Appends change rows to the change log in this transaction.
  absl::Status Append(std::vector<persistence::ChangeRow> rows);
  absl::Status Append(persistence::ChangeRow row);

  // Writes a planned recompute: its evaluation rows and change rows.
  absl::Status Apply(const Recompute& recompute);

  // The customer's state (events included) evaluated at `now`, recomputed.
  struct Recomputed {
    persistence::CustomerState state;
    engine::CustomerEvaluation evaluation;
    // The timeline `evaluation` comes from (always set).
    std::optional<engine::CustomerTimeline> timeline;
  };
  // Recomputes the customer `uuid` at `now`, after this write's row
  // changes. `before` is what observers were last shown (by default the
  // stored view); see PlanRecompute for `former_subscriptions`.
  absl::StatusOr<Recomputed> RecomputeCustomer(
      absl::string_view uuid, absl::Time now,
      const engine::Published* before = nullptr,
      absl::Span<const persistence::SubscriptionRow> former_subscriptions = {});
  // The same on the customer's state (events included) loaded by this
  // write after its row changes.
  absl::StatusOr<Recomputed> RecomputeLoaded(
      persistence::CustomerState state, absl::Time now,
      const engine::Published* before = nullptr,
      absl::Span<const persistence::SubscriptionRow> former_subscriptions = {});

  // Savepoints (persistence/backend.h, contract point 7), with the change
  // rows kept for delivery: RollbackToSavepoint also forgets those appended
  // since Savepoint.
  absl::Status Savepoint();
  absl::Status RollbackToSavepoint();
  absl::Status ReleaseSavepoint();

  // Commits; returns the appended rows that change inputs (kCustomerChanged,
  // kSourceChanged), in order, for the ChangeFollower.
  absl::StatusOr<std::vector<persistence::ChangeRow>> Commit();

 private:
  std::unique_ptr<persistence::WriteTransaction> txn_;
  std::vector<persistence::ChangeRow> appended_;
  size_t appended_at_savepoint_ = 0;
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_WRITE_H_
