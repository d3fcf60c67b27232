#include "core/periodic_thread.h"

#include <utility>

namespace recurrent::core {

PeriodicThread::PeriodicThread(absl::Duration interval,
                               std::function<void()> fn)
    : interval_(interval), fn_(std::move(fn)) {}

PeriodicThread::~PeriodicThread() { Stop(); }

void PeriodicThread::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicThread::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    stop_requested_flag_.store(true, std::memory_order_release);
    // Taken under the lock: Start() writes thread_ under it too.
    thread = std::move(thread_);
  }
  stop_requested_.notify_all();
  if (thread.joinable()) thread.join();
}

void PeriodicThread::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto stopping = [this] { return stopping_; };
      // wait_for() would overflow on an infinite (or centuries-long)
      // interval: that one only ends with Stop().
      if (interval_ >= absl::Hours(24 * 365 * 100)) {
        stop_requested_.wait(lock, stopping);
        return;
      }
      // Sleeps for one interval, waking early on Stop().
      if (stop_requested_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                                   stopping)) {
        return;
      }
    }
    fn_();
  }
}

}  // namespace recurrent::core
