#include "core/group_commit.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace recurrent::core {
namespace {

// Whether `cause` is a fault that a retry in a second would meet again (a
// full disk, a read-only database): the writes it costs are told so.
bool OutlastsARetry(const absl::Status& cause) {
  return common::HasReason(cause, common::reason::kDiskFull) ||
         common::HasReason(cause, common::reason::kDatabaseReadOnly);
}

// A write whose shared transaction failed under another write: nothing of
// it was stored, and retrying it is safe (DATABASE_BUSY: UNAVAILABLE with a
// retry delay). A full disk or a read-only database keeps its own reason.
absl::Status NotStored(const absl::Status& cause) {
  if (OutlastsARetry(cause)) return cause;
  log::Error("a shared write transaction failed; its writes were not stored",
             {{"error", cause.ToString()}});
  return common::WithReason(
      absl::UnavailableError(
          "the write was not stored: the transaction it shared with other "
          "writes failed; retry"),
      common::reason::kDatabaseBusy);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

}  // namespace

// A queued write: its work, and its status once finished.
struct GroupCommit::Writer {
  explicit Writer(Work w) : work(w) {}
  Work work;
  bool done = false;  // guarded by GroupCommit::mu_
  absl::Status status;
  std::condition_variable wake;
};

GroupCommit::GroupCommit(persistence::Backend* backend,
                         ChangeFollower* follower, const Options& options)
    : backend_(backend), follower_(follower), options_(options) {}

void GroupCommit::Deliver(const std::vector<persistence::ChangeRow>& rows) {
  if (follower_ != nullptr) follower_->Deliver(rows);
}

absl::Status GroupCommit::RunAlone(Work work) {
  // Not counted in stats(), which are about small writes.
  Writer writer(work);
  double work_seconds = 0;
  double commit_seconds = 0;
  RunGroup({&writer}, work_seconds, commit_seconds);
  return writer.status;
}

absl::Status GroupCommit::Run(Work work) {
  Writer self(work);
  if (options_.max_writes <= 1) {
    RunGroup({&self});
    std::lock_guard<std::mutex> lock(mu_);
    stats_.groups += 1;
    stats_.writes += 1;
    stats_.largest_group = 1;
    return self.status;
  }
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  while (!self.done && queue_.front() != &self) self.wake.wait(lock);
  if (self.done) return self.status;

  // The leader: takes the writers queued from the front, itself first.
  const size_t size = std::min<size_t>(queue_.size(), options_.max_writes);
  std::vector<Writer*> group(queue_.begin(), queue_.begin() + size);
  lock.unlock();
  const size_t finished = RunGroup(group);
  lock.lock();
  stats_.groups += 1;
  stats_.writes += static_cast<int64_t>(finished);
  if (finished > 1) stats_.shared_groups += 1;
  stats_.largest_group =
      std::max(stats_.largest_group, static_cast<int64_t>(finished));
  for (size_t i = 0; i < finished; ++i) {
    queue_.pop_front();
    group[i]->done = true;
    if (group[i] != &self) group[i]->wake.notify_one();
  }
  // The next group's leader.
  if (!queue_.empty()) queue_.front()->wake.notify_one();
  return self.status;
}

size_t GroupCommit::RunGroup(const std::vector<Writer*>& group) {
  double work_seconds = 0;
  double commit_seconds = 0;
  const size_t finished = RunGroup(group, work_seconds, commit_seconds);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.work_seconds += work_seconds;
  stats_.commit_seconds += commit_seconds;
  return finished;
}

size_t GroupCommit::RunGroup(const std::vector<Writer*>& group,
                             double& work_seconds, double& commit_seconds) {
  absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>> txn =
      backend_->BeginWrite();
  if (!txn.ok()) {
    for (Writer* writer : group) writer->status = txn.status();
    return group.size();
  }
  Write write(*std::move(txn));
  if (group.size() == 1) {
    // Alone: no savepoint needed; a failure rolls the transaction back.
    Writer& writer = *group.front();
    const auto started = std::chrono::steady_clock::now();
    writer.status = writer.work(write);
    work_seconds += SecondsSince(started);
    if (!writer.status.ok()) return 1;
    const auto committing = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<persistence::ChangeRow>> appended =
        write.Commit();
    commit_seconds += SecondsSince(committing);
    if (!appended.ok()) {
      writer.status = appended.status();
    } else {
      Deliver(*appended);
    }
    return 1;
  }

  size_t ran = 0;
  bool any_ok = false;
  absl::Status ended;  // set if the shared transaction ended under a write
  for (Writer* writer : group) {
    absl::Status step = write.Savepoint();
    if (step.ok()) {
      ++ran;
      const auto started = std::chrono::steady_clock::now();
      writer->status = writer->work(write);
      work_seconds += SecondsSince(started);
      step = writer->status.ok() ? write.ReleaseSavepoint()
                                 : write.RollbackToSavepoint();
      if (step.ok()) {
        any_ok = any_ok || writer->status.ok();
        continue;
      }
    }
    // The transaction cannot go on (SQLite rolled it back after an error):
    // the writes run in it are lost; the rest stay queued for the next
    // group. The one that broke it keeps its own error, if it had one.
    if (ran == 0) {
      // Not even a savepoint: nothing ran, and the leader must finish.
      group.front()->status = NotStored(step);
      return 1;
    }
    // A full disk or a read-only database, if that is what its own error
    // says, tells why the transaction ended better than the failed
    // rollback that followed it.
    ended = OutlastsARetry(writer->status) ? writer->status : step;
    break;
  }
  if (!ended.ok()) {
    const absl::Status lost = NotStored(ended);
    for (size_t i = 0; i < ran; ++i) {
      if (group[i]->status.ok()) group[i]->status = lost;
    }
    return ran;
  }
  if (!any_ok) return ran;  // nothing to commit; rolled back when `write` goes
  const auto committing = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<persistence::ChangeRow>> appended =
      write.Commit();
  commit_seconds += SecondsSince(committing);
  if (!appended.ok()) {
    for (size_t i = 0; i < ran; ++i) {
      if (group[i]->status.ok()) group[i]->status = appended.status();
    }
  } else {
    Deliver(*appended);
  }
  return ran;
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace recurrent::core
