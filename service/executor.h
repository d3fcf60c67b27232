// Executor: a fixed pool of threads with a bounded queue.
//
// gRPC's callback API runs reactions on gRPC's own threads, which must never
// block. Every RPC handler therefore hands its work (validation, SQLite calls,
// evaluation) to an Executor and finishes the call from one of its threads.
// The queue bound turns overload into RESOURCE_EXHAUSTED instead of unbounded
// memory growth. See docs/operations.md ("Threading").
#ifndef RECURRENT_SERVICE_EXECUTOR_H_
#define RECURRENT_SERVICE_EXECUTOR_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace recurrent::service {

// Thread-safe.
class Executor {
 public:
  struct Options {
    int num_threads = 4;
    size_t max_queued = 4096;  // work items waiting for a thread
  };

  explicit Executor(const Options& options);
  // Runs every queued item, then joins the threads.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `work` to run on a pool thread. Returns kResourceExhausted if the
  // queue is full and kUnavailable after Shutdown(); `work` is then not run.
  absl::Status Schedule(absl::AnyInvocable<void() &&> work);

  // Stops accepting work, runs what is queued and joins the threads.
  // Idempotent.
  void Shutdown();

 private:
  void WorkerLoop();

  const Options options_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  // Signalled when work is queued or shutdown starts.
  std::condition_variable work_or_shutdown_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_EXECUTOR_H_
