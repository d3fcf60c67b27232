#include "core/reevaluator.h"

#include "common/log.h"

namespace recurrent::core {
namespace {

absl::Duration BackgroundInterval(absl::Duration interval) {
  return interval > absl::ZeroDuration() ? interval : absl::InfiniteDuration();
}

}  // namespace

Reevaluator::Reevaluator(Store* store, const common::Clock* clock,
                         const Options& options)
    : store_(store),
      clock_(clock),
      options_(options),
      thread_(BackgroundInterval(options.interval), [this] {
        if (absl::StatusOr<int> done = RunOnce(); !done.ok()) {
          // Transient (busy, disk full): the due customers stay due and the
          // next round retries them.
          log::Error("re-evaluation failed",
                     {{"error", done.status().ToString()}});
        }
      }) {}

absl::StatusOr<int> Reevaluator::RunOnce() {
  const absl::Time now = clock_->Now();
  int total = 0;
  while (true) {
    absl::StatusOr<int> done =
        store_->ReevaluateDueCustomers(now, options_.batch_size);
    if (!done.ok()) return done.status();
    total += *done;
    if (*done < options_.batch_size) return total;
  }
}

void Reevaluator::Start() { thread_.Start(); }

void Reevaluator::Stop() { thread_.Stop(); }

}  // namespace recurrent::core
