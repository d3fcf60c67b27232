// PeriodicThread: runs a function every interval on a background thread
// until stopped (the re-evaluator, the change-log poller and pruner).
//
//   PeriodicThread thread(absl::Seconds(1), [] { DoWork(); });
//   thread.Start();
//   ...
//   thread.Stop();  // also on destruction
//
// The function runs once per interval, the first time one interval after
// Start(); Stop() wakes the sleeping thread at once and waits for a running
// call to return. A function that works through a backlog checks
// StopRequested() between steps, so that Stop() does not wait for all of
// it. Thread-safe.
#ifndef RECURRENT_CORE_PERIODIC_THREAD_H_
#define RECURRENT_CORE_PERIODIC_THREAD_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace recurrent::core {

class PeriodicThread {
 public:
  // An interval of a century or more (absl::InfiniteDuration() included)
  // means the function never runs.
  PeriodicThread(absl::Duration interval, std::function<void()> fn);
  ~PeriodicThread();

  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts the thread; no-op if it runs or was stopped.
  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();
  // True once Stop() was called (for the function, between its steps).
  bool StopRequested() const {
    return stop_requested_flag_.load(std::memory_order_acquire);
  }

 private:
  void Loop();

  const absl::Duration interval_;
  const std::function<void()> fn_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  std::condition_variable stop_requested_;  // signalled by Stop()
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_requested_flag_{false};  // stopping_, lock-free
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_PERIODIC_THREAD_H_
