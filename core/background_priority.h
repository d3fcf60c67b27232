#ifndef RECURRENT_CORE_BACKGROUND_PRIORITY_H_
#define RECURRENT_CORE_BACKGROUND_PRIORITY_H_

// The priority of background batch work (a reprocess's scan and evaluation
// threads), which must never hold up the requests the server serves, yet
// must always progress (a reprocess holds the write lock).
//
// Such a thread runs under SCHED_IDLE: it uses only CPU time no other thread
// of the machine wants, and a request thread that wakes up takes its core at
// once. Should it starve, the thread that waits for it moves it back to
// SCHED_OTHER at kBackgroundNice. Linux lets an unprivileged process make
// that move only if its RLIMIT_NICE allows nice kBackgroundNice (systemd:
// LimitNICE=+10) or it has CAP_SYS_NICE; without either, a SCHED_IDLE thread
// could never leave it, so background threads run at kBackgroundNice under
// SCHED_OTHER instead (a busy request thread then waits for their time
// slice: reads' p99 during a reprocess is about 2x higher,
// docs/performance.md). Linux applies all of this per thread.

#include <thread>

namespace recurrent::core {

inline constexpr int kBackgroundNice = 10;

enum class BackgroundPolicy {
  kIdle,  // SCHED_IDLE, promoted to SCHED_OTHER at kBackgroundNice
  kNice,  // SCHED_OTHER at kBackgroundNice throughout
};

// kIdle if this process may move a SCHED_IDLE thread back to SCHED_OTHER at
// kBackgroundNice, else kNice.
BackgroundPolicy ChooseBackgroundPolicy();

// Lowers the calling thread to `policy`. Failure only leaves it as it was.
void EnterBackground(BackgroundPolicy policy);

// Moves `thread`, lowered by EnterBackground, to SCHED_OTHER at
// kBackgroundNice (a no-op under kNice). Returns false if Linux refused.
bool PromoteBackgroundThread(std::thread& thread);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_BACKGROUND_PRIORITY_H_
