// What /proc says about a process: CPU time and memory. Linux only; used by
// the load generator to report the server's CPU use and RSS.
#ifndef RECURRENT_BENCH_LOADGEN_PROC_STATS_H_
#define RECURRENT_BENCH_LOADGEN_PROC_STATS_H_

#include <sys/types.h>

#include <optional>

namespace recurrent::bench {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system, all threads
  double rss_mb = 0;       // VmRSS
  double peak_rss_mb = 0;  // VmHWM
};

// The current sample of process `pid`, or std::nullopt if it cannot be read
// (no such process, no permission).
std::optional<ProcessSample> SampleProcess(pid_t pid);

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_LOADGEN_PROC_STATS_H_
