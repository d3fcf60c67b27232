#include "core/reevaluator.h"

#include <string>
#include <vector>

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
        if (absl::StatusOr<int> done = Run(/*stoppable=*/true); !done.ok()) {
          // Transient (busy, disk full): the due customers stay due and the
          // next round retries them.
          log::Error("re-evaluation failed",
                     {{"error", done.status().ToString()}});
        }
      }) {}

absl::StatusOr<int> Reevaluator::RunOnce() { return Run(/*stoppable=*/false); }

absl::StatusOr<int> Reevaluator::Run(bool stoppable) {
  const absl::Time now = clock_->Now();
  int total = 0;
  // Customers whose source another transaction holds (a reprocess, on
  // PostgreSQL): left for a later run, while this one goes on to the others
  // due, up to a bound on how many it steps over each batch.
  std::vector<std::string> skipped;
  const size_t max_skipped = 10 * static_cast<size_t>(options_.batch_size);
  while (true) {
    // A server shutting down stops between batches: the rest stay due.
    if (stoppable && thread_.StopRequested()) return total;
    const size_t skipped_before = skipped.size();
    absl::StatusOr<int> done =
        store_->ReevaluateDueCustomers(now, options_.batch_size, &skipped);
    if (!done.ok()) return done.status();
    total += *done;
    const int claimed =
        *done + static_cast<int>(skipped.size() - skipped_before);
    if (claimed < options_.batch_size || skipped.size() > max_skipped) {
      return total;
    }
  }
}

void Reevaluator::Start() { thread_.Start(); }

void Reevaluator::Stop() { thread_.Stop(); }

}  // namespace recurrent::core
