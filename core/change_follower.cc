#include "core/change_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace recurrent::core {
namespace {

ChangeFollower::Options WithValidBatch(ChangeFollower::Options options) {
  options.batch_rows = std::max(1, options.batch_rows);
  return options;
}

}  // namespace

ChangeFollower::ChangeFollower(persistence::Backend* backend,
                               const common::Clock* clock,
                               const Options& options)
    : backend_(backend), clock_(clock), options_(WithValidBatch(options)) {}

ChangeFollower::~ChangeFollower() { Stop(); }

void ChangeFollower::Subscribe(Subscriber subscriber) {
  subscribers_.push_back(std::move(subscriber));
}

void ChangeFollower::OnRowsLost(std::function<void()> lost) {
  on_rows_lost_.push_back(std::move(lost));
}

void ChangeFollower::OnAdvance(std::function<void()> advanced) {
  on_advance_.push_back(std::move(advanced));
}

bool ChangeFollower::Delivers(persistence::ChangeKind kind) {
  return std::find(std::begin(kDeliveredKinds), std::end(kDeliveredKinds),
                   kind) != std::end(kDeliveredKinds);
}

absl::Status ChangeFollower::Start() {
  const absl::Time started = clock_->Now();
  {
    RECURRENT_ASSIGN_OR_RETURN(
        std::unique_ptr<persistence::ReadTransaction> txn,
        backend_->BeginRead());
    RECURRENT_ASSIGN_OR_RETURN(const int64_t last, txn->LastChangeSequence());
    std::lock_guard<std::mutex> lock(poll_mu_);
    last_read_ = last;
  }
  caught_up_micros_.store(absl::ToUnixMicros(started),
                          std::memory_order_release);
  if (options_.poll_interval > absl::ZeroDuration() && poller_ == nullptr) {
    poller_ = std::make_unique<PeriodicThread>(options_.poll_interval, [this] {
      if (absl::Status status = Poll(); !status.ok()) {
        // Transient (busy, unreachable): the next round reads from the same
        // position.
        log::Error("reading the change log failed",
                   {{"error", status.ToString()}});
      }
    });
    poller_->Start();
  }
  return absl::OkStatus();
}

void ChangeFollower::Stop() {
  stopping_.store(true, std::memory_order_release);
  if (poller_ != nullptr) poller_->Stop();
}

void ChangeFollower::Deliver(absl::Span<const persistence::ChangeRow> rows) {
  if (rows.empty()) return;
  for (const Subscriber& subscriber : subscribers_) subscriber(rows);
  for (const auto& advanced : on_advance_) advanced();
}

absl::Status ChangeFollower::Poll() {
  std::lock_guard<std::mutex> lock(poll_mu_);
  // Every row committed before this instant is read by the end of the loop.
  const absl::Time started = clock_->Now();
  while (true) {
    // Stopping between batches: a long backlog does not hold up shutdown
    // (and the follower does not count as caught up).
    if (stopping_.load(std::memory_order_acquire)) return absl::OkStatus();
    std::vector<persistence::ChangeRow> rows;
    // Where this batch reads to: the last row read out if the batch is full
    // (rows of the delivered kinds may follow it), else the end of the log.
    int64_t read_to = 0;
    // The next sequence after last_read_ that is still in the log (or
    // read_to + 1), from the same snapshot as `rows`.
    int64_t next = 0;
    bool full = false;
    {
      RECURRENT_ASSIGN_OR_RETURN(
          std::unique_ptr<persistence::ReadTransaction> txn,
          backend_->BeginRead());
      RECURRENT_ASSIGN_OR_RETURN(
          rows, txn->ReadChangesOfKinds(last_read_, options_.batch_rows,
                                        kDeliveredKinds));
      full = static_cast<int>(rows.size()) >= options_.batch_rows;
      if (full) {
        read_to = rows.back().sequence;
      } else {
        RECURRENT_ASSIGN_OR_RETURN(read_to, txn->LastChangeSequence());
      }
      next = read_to + 1;
      if (!rows.empty() && rows.front().sequence == last_read_ + 1) {
        next = last_read_ + 1;
      } else if (read_to > last_read_) {
        // The first row after the position, of any kind.
        RECURRENT_ASSIGN_OR_RETURN(
            const std::vector<persistence::ChangeRow> first,
            txn->ReadChanges(last_read_, 1));
        if (!first.empty()) next = first.front().sequence;
      }
    }
    // Sequences have no gaps (backend.h), but pruning removes rows.
    if (next > last_read_ + 1) {
      log::Error(
          "change-log rows were pruned before this server read "
          "them; dropping what it derived from the log",
          {{"after_sequence", absl::StrCat(last_read_)},
           {"next_sequence", absl::StrCat(next)}});
      for (const auto& lost : on_rows_lost_) lost();
    }
    if (!rows.empty()) {
      for (const Subscriber& subscriber : subscribers_) subscriber(rows);
    }
    const bool advanced = read_to > last_read_;
    last_read_ = std::max(last_read_, read_to);
    if (advanced) {
      for (const auto& on_advance : on_advance_) on_advance();
    }
    if (!full) {
      caught_up_micros_.store(absl::ToUnixMicros(started),
                              std::memory_order_release);
      return absl::OkStatus();
    }
  }
}

absl::Duration ChangeFollower::Lag(absl::Time now) const {
  if (options_.poll_interval <= absl::ZeroDuration()) {
    return absl::ZeroDuration();
  }
  const int64_t caught_up = caught_up_micros_.load(std::memory_order_acquire);
  if (caught_up == kNotCaughtUp) return absl::InfiniteDuration();
  const absl::Duration lag = now - absl::FromUnixMicros(caught_up);
  // A poll may begin after the caller read `now` (a negative lag of a
  // moment). Much earlier than the poll, the wall clock was set back: how
  // long ago the poll began is unknown until the next one reads to the end.
  // (Taking that as no lag would count a stalled follower as up to date
  // until the clock caught up again.)
  if (lag < -options_.max_lag) return absl::InfiniteDuration();
  return std::max(absl::ZeroDuration(), lag);
}

bool ChangeFollower::UpToDate(absl::Time now) const {
  return Lag(now) <= options_.max_lag;
}

}  // namespace recurrent::core
