// Reevaluator: keeps stored statuses right as time passes with no writes.
//
// Every write recomputes the customers it touches and stores, with their
// status, the next instant at which that status would change by itself
// (next_transition_at). The Reevaluator wakes every `interval`, asks storage
// to recompute the customers whose instant has passed, and so moves, say, a
// customer whose invoice just fell due to PAST_DUE within one interval.
#ifndef RECURRENT_SERVICE_REEVALUATOR_H_
#define RECURRENT_SERVICE_REEVALUATOR_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/storage.h"
#include "service/clock.h"

namespace recurrent::service {

// Thread-safe.
class Reevaluator {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(1);
    // Customers recomputed per write transaction, so that a long backlog
    // never holds the writer for long.
    int batch_size = 500;
  };

  // `storage` and `clock` are not owned and must outlive the Reevaluator.
  Reevaluator(persistence::Storage* storage, const Clock* clock,
              const Options& options);
  // Stops the background thread if it runs.
  ~Reevaluator();

  Reevaluator(const Reevaluator&) = delete;
  Reevaluator& operator=(const Reevaluator&) = delete;

  // Recomputes every customer due at the clock's now, in batches, and
  // returns how many it recomputed.
  absl::StatusOr<int> RunOnce();

  // Runs RunOnce() every interval on a background thread until Stop().
  void Start();
  // Stops and joins the background thread. Idempotent.
  void Stop();

 private:
  void Loop();

  persistence::Storage* const storage_;
  const Clock* const clock_;
  const Options options_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  std::condition_variable stop_requested_;  // signalled by Stop()
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_REEVALUATOR_H_
