#include "service/reevaluator.h"

#include <cstdio>
#include <utility>

namespace recurrent::service {

Reevaluator::Reevaluator(persistence::Storage* storage, const Clock* clock,
                         const Options& options)
    : storage_(storage), clock_(clock), options_(options) {}

Reevaluator::~Reevaluator() { Stop(); }

absl::StatusOr<int> Reevaluator::RunOnce() {
  const absl::Time now = clock_->Now();
  int total = 0;
  while (true) {
    absl::StatusOr<int> done =
        storage_->RecomputeDueCustomers(now, options_.batch_size);
    if (!done.ok()) return done.status();
    total += *done;
    if (*done < options_.batch_size) return total;
  }
}

void Reevaluator::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Reevaluator::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Taken under the lock: Start() writes thread_ under it too.
    thread = std::move(thread_);
  }
  stop_requested_.notify_all();
  if (thread.joinable()) thread.join();
}

void Reevaluator::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto stopping = [this] { return stopping_; };
      // wait_for() would overflow on an infinite (or centuries-long)
      // interval: that one only ends with Stop().
      if (options_.interval >= absl::Hours(24 * 365 * 100)) {
        stop_requested_.wait(lock, stopping);
        return;
      }
      // Sleeps for one interval, waking early on Stop().
      if (stop_requested_.wait_for(
              lock, absl::ToChronoNanoseconds(options_.interval), stopping)) {
        return;
      }
    }
    absl::StatusOr<int> done = RunOnce();
    if (!done.ok()) {
      // Transient (busy, disk full): the due customers stay due and the next
      // round retries them.
      std::fprintf(stderr, "recurrentd: re-evaluation failed: %s\n",
                   done.status().ToString().c_str());
    }
  }
}

}  // namespace recurrent::service
