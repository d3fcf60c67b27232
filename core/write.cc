#include "core/write.h"

#include <utility>

#include "common/status_macros.h"
#include "core/change_follower.h"

namespace recurrent::core {

using persistence::ChangeRow;

absl::Status Write::Append(std::vector<ChangeRow> rows) {
  if (rows.empty()) return absl::OkStatus();
  RECURRENT_RETURN_IF_ERROR(txn_->AppendChanges(rows));
  // Kept for delivery after the commit (ChangeFollower::Deliver): the rows
  // that change what a customer's answer depends on (a reprocess appends
  // many others, and they need not stay in memory).
  for (ChangeRow& row : rows) {
    if (ChangeFollower::Delivers(row.kind)) appended_.push_back(std::move(row));
  }
  return absl::OkStatus();
}

absl::Status Write::Append(ChangeRow row) {
  std::vector<ChangeRow> rows;
  rows.push_back(std::move(row));
  return Append(std::move(rows));
}

absl::Status Write::Apply(const Recompute& recompute) {
  if (!recompute.write.empty()) {
    RECURRENT_RETURN_IF_ERROR(txn_->WriteEvaluation(recompute.write));
  }
  return Append(recompute.changes);
}

absl::StatusOr<Write::Recomputed> Write::RecomputeCustomer(
    absl::string_view uuid, absl::Time now, const engine::Published* before,
    absl::Span<const persistence::SubscriptionRow> former_subscriptions) {
  RECURRENT_ASSIGN_OR_RETURN(persistence::CustomerState state,
                             txn_->LoadCustomerState(uuid, true));
  return RecomputeLoaded(std::move(state), now, before, former_subscriptions);
}

absl::StatusOr<Write::Recomputed> Write::RecomputeLoaded(
    persistence::CustomerState state, absl::Time now,
    const engine::Published* before,
    absl::Span<const persistence::SubscriptionRow> former_subscriptions) {
  Recomputed result;
  result.state = std::move(state);
  RECURRENT_ASSIGN_OR_RETURN(engine::CustomerTimeline timeline,
                             BuildTimeline(result.state));
  const engine::Published stored =
      before != nullptr ? *before : StoredView(result.state);
  now = EvaluationInstant(stored, now);
  RECURRENT_ASSIGN_OR_RETURN(
      const Recompute recompute,
      PlanRecompute(result.state, timeline, now, stored, former_subscriptions));
  RECURRENT_RETURN_IF_ERROR(Apply(recompute));
  result.evaluation = timeline.EvaluateAt(now);
  result.timeline = std::move(timeline);
  return result;
}

absl::Status Write::Savepoint() {
  RECURRENT_RETURN_IF_ERROR(txn_->Savepoint());
  appended_at_savepoint_ = appended_.size();
  return absl::OkStatus();
}

absl::Status Write::RollbackToSavepoint() {
  RECURRENT_RETURN_IF_ERROR(txn_->RollbackToSavepoint());
  appended_.resize(appended_at_savepoint_);
  return absl::OkStatus();
}

absl::Status Write::ReleaseSavepoint() { return txn_->ReleaseSavepoint(); }

absl::StatusOr<std::vector<ChangeRow>> Write::Commit() {
  RECURRENT_RETURN_IF_ERROR(txn_->Commit());
  txn_.reset();  // ends the transaction (and releases its locks) now
  return std::move(appended_);
}

}  // namespace recurrent::core
