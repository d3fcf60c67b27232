// ChangeFollower: hands the committed change-log rows that change a
// customer's inputs (kCustomerChanged, kSourceChanged: kDeliveredKinds) to
// in-memory readers of the log, such as the GetCustomer cache, and tells
// others (the change feed's watches) when the log has grown.
//
//   ChangeFollower follower(&backend, &clock, options);
//   follower.Subscribe([&cache](absl::Span<const ChangeRow> rows) {
//     cache.Invalidate(rows);
//   });
//   RETURN_IF_ERROR(follower.Start());  // polls in the background
//
// Rows reach subscribers two ways. The Store delivers the rows of this
// process's writes that change a customer's inputs (kCustomerChanged,
// kSourceChanged) right after their commit and before the write returns
// (Deliver), so a caller that has seen its write acknowledged never reads
// from a subscriber's copy from before it. Every `poll_interval`, the
// follower reads the rows of those kinds committed since the last it read,
// which brings in the writes of other processes sharing the database (and
// this process's rows again). A subscriber may so see a row twice; it must
// treat rows as idempotent hints. The rows of other kinds (events, status
// changes: most of a reprocess's) are passed over inside the backend's
// query, so that a backlog of a million of them costs a fraction of a
// second rather than several, during which UpToDate would turn false.
//
// A subscriber's copy is only as fresh as the last poll that reached the
// end of the log: if polls fail or stall (the database unreachable, a row
// that cannot be read), other processes' writes stop arriving. Readers of
// such a copy ask UpToDate(now) first and read the database instead while
// the follower is more than `max_lag` behind.
//
// Thread-safe.
#ifndef RECURRENT_CORE_CHANGE_FOLLOWER_H_
#define RECURRENT_CORE_CHANGE_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "core/periodic_thread.h"
#include "persistence/backend.h"
#include "persistence/records.h"

namespace recurrent::core {

class ChangeFollower {
 public:
  struct Options {
    // How often the log is read for other processes' writes; zero: never
    // (tests drive Poll by hand).
    absl::Duration poll_interval = absl::Milliseconds(100);
    // Rows of kDeliveredKinds read per query (at least 1).
    int batch_rows = 1000;
    // With polling, UpToDate() is false once the last poll that read to the
    // end of the log began longer ago than this.
    absl::Duration max_lag = absl::Seconds(1);
  };
  using Subscriber =
      std::function<void(absl::Span<const persistence::ChangeRow> rows)>;

  // The kinds of rows subscribers get.
  static constexpr persistence::ChangeKind kDeliveredKinds[] = {
      persistence::ChangeKind::kCustomerChanged,
      persistence::ChangeKind::kSourceChanged};
  static bool Delivers(persistence::ChangeKind kind);

  // `backend` and `clock` are not owned and must outlive the follower.
  ChangeFollower(persistence::Backend* backend, const common::Clock* clock,
                 const Options& options);
  // Stops the background thread if it runs.
  ~ChangeFollower();

  ChangeFollower(const ChangeFollower&) = delete;
  ChangeFollower& operator=(const ChangeFollower&) = delete;

  // Adds a subscriber. Call before Start(); subscribers must be quick and
  // must not call the follower or the Store.
  void Subscribe(Subscriber subscriber);
  // Adds a function called when a poll finds that rows were pruned from the
  // log before this follower read them (it fell further behind than the
  // log's retention): what subscribers hold may have missed changes, and
  // must be dropped whole. The rows read after the gap are delivered as
  // usual. Same rules as Subscribe.
  void OnRowsLost(std::function<void()> lost);
  // Adds a function called when rows were committed since the last call,
  // as far as the follower knows: after Deliver(), and after a poll that
  // found the log longer, whatever the kinds of its new rows. Same rules as
  // Subscribe.
  void OnAdvance(std::function<void()> advanced);

  // Reads where the log ends (only later rows are delivered) and, with a
  // positive poll_interval, starts polling on a background thread.
  absl::Status Start();
  // Stops and joins the background thread; a Poll() under way (or called
  // later) returns after the batch it is reading. Idempotent.
  void Stop();

  // Hands `rows`, input changes just committed by this process (of
  // kDeliveredKinds), to the subscribers.
  void Deliver(absl::Span<const persistence::ChangeRow> rows);

  // Reads the rows of kDeliveredKinds committed since the last one read and
  // hands them to the subscribers; reaches the end of the log.
  absl::Status Poll();

  // Whether every row of kDeliveredKinds committed more than `max_lag`
  // before `now` has reached the subscribers. Always true without polling (a
  // zero poll_interval: only this process's writes reach them, at once); with
  // polling, true while the last poll that read to the end of the log (or
  // Start) began at most `max_lag` before `now`.
  bool UpToDate(absl::Time now) const;
  // How long ago that poll began (zero without polling; infinite with
  // polling before Start, and when `now` is more than `max_lag` before it:
  // the wall clock was set back): what UpToDate compares with `max_lag`.
  absl::Duration Lag(absl::Time now) const;

 private:
  persistence::Backend* const backend_;
  const common::Clock* const clock_;
  const Options options_;
  // When the last poll that read to the end of the log began, in Unix
  // microseconds (read without the lock on the read path); kNotCaughtUp
  // before Start.
  static constexpr int64_t kNotCaughtUp = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> caught_up_micros_{kNotCaughtUp};
  std::atomic<bool> stopping_{false};    // set by Stop(); Poll() returns early
  std::vector<Subscriber> subscribers_;  // set before Start()
  std::vector<std::function<void()>> on_rows_lost_;  // set before Start()
  std::vector<std::function<void()>> on_advance_;    // set before Start()

  // Serializes Poll() (and guards the position it reads from).
  std::mutex poll_mu_;
  int64_t last_read_ ABSL_GUARDED_BY(poll_mu_) = 0;

  std::unique_ptr<PeriodicThread> poller_;  // set by Start()
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_CHANGE_FOLLOWER_H_
