// Executor: a fixed pool of threads with a bounded queue, fair across
// clients.
//
// gRPC's callback API runs reactions on gRPC's own threads, which must never
// block. Every RPC handler therefore hands its work (validation, SQLite calls,
// evaluation) to an Executor and finishes the call from one of its threads.
// The queue bound turns overload into RESOURCE_EXHAUSTED instead of unbounded
// memory growth. Work is queued per client (a connection) and clients are
// served in turn, one item each, so a client with thousands of calls queued
// delays another client's call by at most one item per busy client. See
// docs/operations.md ("Threading").
#ifndef RECURRENT_SERVICE_EXECUTOR_H_
#define RECURRENT_SERVICE_EXECUTOR_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace recurrent::service {

// Thread-safe.
class Executor {
 public:
  struct Options {
    int num_threads = 4;
    // Work items waiting for a thread; a client with nothing queued may
    // always queue one more.
    size_t max_queued = 4096;
  };

  explicit Executor(const Options& options);
  // Runs every queued item, then joins the threads.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `work` of `client` to run on a pool thread. Returns
  // kResourceExhausted if the queue is full and `client` has work queued
  // already, and kUnavailable after Shutdown(); `work` is then not run.
  absl::Status Schedule(const std::string& client,
                        absl::AnyInvocable<void() &&> work);

  // Stops accepting work, runs what is queued and joins the threads.
  // Idempotent.
  void Shutdown();

  // Work items waiting for a thread now.
  size_t queued();

 private:
  void WorkerLoop();

  const Options options_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  // Signalled when work is queued or shutdown starts.
  std::condition_variable work_or_shutdown_;
  using Work = absl::AnyInvocable<void() &&>;
  // Each client's queue; clients with nothing queued are absent. (A node
  // map: turns_ points at its keys.)
  absl::node_hash_map<std::string, std::deque<Work>> queues_
      ABSL_GUARDED_BY(mu_);
  // The clients in queues_, in the order they are served.
  std::deque<const std::string*> turns_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_EXECUTOR_H_
