#include "service/executor.h"

#include <utility>

namespace recurrent::service {

Executor::Executor(const Options& options) : options_(options) {
  const int n = options_.num_threads > 0 ? options_.num_threads : 1;
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() { Shutdown(); }

absl::Status Executor::Schedule(absl::AnyInvocable<void() &&> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) {
      return absl::UnavailableError("server is shutting down");
    }
    if (queue_.size() >= options_.max_queued) {
      return absl::ResourceExhaustedError("server is overloaded; retry later");
    }
    queue_.push_back(std::move(work));
  }
  work_or_shutdown_.notify_one();
  return absl::OkStatus();
}

void Executor::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_ && threads_.empty()) return;
    shutting_down_ = true;
  }
  work_or_shutdown_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Executor::WorkerLoop() {
  while (true) {
    absl::AnyInvocable<void() &&> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_or_shutdown_.wait(
          lock, [this] { return shutting_down_ || !queue_.empty(); });
      if (queue_.empty()) return;  // shutting down and drained
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

}  // namespace recurrent::service
