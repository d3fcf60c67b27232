#include "service/executor.h"

#include <utility>

#include "common/error_reason.h"

namespace recurrent::service {

Executor::Executor(const Options& options) : options_(options) {
  const int n = options_.num_threads > 0 ? options_.num_threads : 1;
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() { Shutdown(); }

absl::Status Executor::Schedule(const std::string& client,
                               absl::AnyInvocable<void() &&> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) {
      return common::WithReason(
          absl::UnavailableError("server is shutting down"),
          common::reason::kShuttingDown);
    }
    auto [it, first] = queues_.try_emplace(client);
    if (!first && queued_ >= options_.max_queued) {
      return common::WithReason(
          absl::ResourceExhaustedError("server is overloaded; retry later"),
          common::reason::kOverloaded);
    }
    if (first) turns_.push_back(&it->first);
    it->second.push_back(std::move(work));
    ++queued_;
  }
  work_or_shutdown_.notify_one();
  return absl::OkStatus();
}

size_t Executor::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
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
          lock, [this] { return shutting_down_ || !turns_.empty(); });
      if (turns_.empty()) return;  // shutting down and drained
      auto it = queues_.find(*turns_.front());
      turns_.pop_front();
      work = std::move(it->second.front());
      it->second.pop_front();
      --queued_;
      if (it->second.empty()) {
        queues_.erase(it);
      } else {
        turns_.push_back(&it->first);
      }
    }
    std::move(work)();
  }
}

}  // namespace recurrent::service
