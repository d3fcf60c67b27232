// Clock: the only source of "now" in Recurrent.
//
// Everything that needs the current time takes a Clock*, so that tests can
// substitute a FakeClock. Nothing else in the code base calls absl::Now().
#ifndef RECURRENT_COMMON_CLOCK_H_
#define RECURRENT_COMMON_CLOCK_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace recurrent::common {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock (UTC). Thread-safe.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}

  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Set(absl::Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = now;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks.
  mutable std::mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_CLOCK_H_
