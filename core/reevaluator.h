// Reevaluator: keeps stored statuses right as time passes with no writes.
//
// Every write recomputes the customers it touches and stores, with their
// status, the next instant at which it would change by itself
// (next_transition_at). The Reevaluator wakes every `interval` and has the
// Store recompute the customers whose instant has passed: a customer whose
// invoice just fell due moves to PAST_DUE, and an auto-churn dated in the
// future is published in the change log, within one interval.
#ifndef RECURRENT_CORE_REEVALUATOR_H_
#define RECURRENT_CORE_REEVALUATOR_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/periodic_thread.h"
#include "core/store.h"

namespace recurrent::core {

// Thread-safe.
class Reevaluator {
 public:
  struct Options {
    // Zero or infinite: never in the background (tests call RunOnce()).
    absl::Duration interval = absl::Seconds(1);
    // Customers recomputed per write transaction, so that a long backlog
    // never holds a write lock for long.
    int batch_size = 500;
  };

  // `store` and `clock` are not owned and must outlive the Reevaluator.
  Reevaluator(Store* store, const common::Clock* clock, const Options& options);

  Reevaluator(const Reevaluator&) = delete;
  Reevaluator& operator=(const Reevaluator&) = delete;

  // Recomputes every customer due at the clock's now, in batches, and
  // returns how many it recomputed.
  absl::StatusOr<int> RunOnce();

  // Runs RunOnce() every interval on a background thread until Stop().
  void Start();
  // Stops and joins the background thread: a round under way ends after
  // its current batch (the rest stay due). Idempotent.
  void Stop();

 private:
  // RunOnce(); if `stoppable`, ending early once Stop() is called.
  absl::StatusOr<int> Run(bool stoppable);

  Store* const store_;
  const common::Clock* const clock_;
  const Options options_;
  PeriodicThread thread_;
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_REEVALUATOR_H_
