// ChangeFollower: hands every committed change-log row to in-memory
// readers of the log, such as the GetCustomer cache.
//
//   ChangeFollower follower(&backend, options);
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
// follower reads every row committed since the last it read, which brings
// in the writes of other processes sharing the database (and this process's
// other rows). A subscriber may so see a row twice; it must treat rows as
// idempotent hints.
//
// Thread-safe.
#ifndef RECURRENT_CORE_CHANGE_FOLLOWER_H_
#define RECURRENT_CORE_CHANGE_FOLLOWER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
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
    // Rows read per query.
    int batch_rows = 1000;
  };
  using Subscriber =
      std::function<void(absl::Span<const persistence::ChangeRow> rows)>;

  // `backend` is not owned and must outlive the follower.
  ChangeFollower(persistence::Backend* backend, const Options& options);
  // Stops the background thread if it runs.
  ~ChangeFollower();

  ChangeFollower(const ChangeFollower&) = delete;
  ChangeFollower& operator=(const ChangeFollower&) = delete;

  // Adds a subscriber. Call before Start(); subscribers must be quick and
  // must not call the follower or the Store.
  void Subscribe(Subscriber subscriber);

  // Reads where the log ends (only later rows are delivered) and, with a
  // positive poll_interval, starts polling on a background thread.
  absl::Status Start();
  // Stops and joins the background thread. Idempotent.
  void Stop();

  // Hands `rows`, input changes just committed by this process, to the
  // subscribers.
  void Deliver(absl::Span<const persistence::ChangeRow> rows);

  // Reads every row committed since the last one read and hands them to the
  // subscribers.
  absl::Status Poll();

 private:
  persistence::Backend* const backend_;
  const Options options_;
  std::vector<Subscriber> subscribers_;  // set before Start()

  // Serializes Poll() (and guards the position it reads from).
  std::mutex poll_mu_;
  int64_t last_read_ ABSL_GUARDED_BY(poll_mu_) = 0;

  std::unique_ptr<PeriodicThread> poller_;  // set by Start()
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_CHANGE_FOLLOWER_H_
