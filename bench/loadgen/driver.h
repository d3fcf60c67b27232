// Driver: issues RPCs over C channels with the async CompletionQueue API and
// measures them, closed-loop (D calls in flight per channel, each completion
// starts the next) or open-loop (a fixed rate; latency counted from the
// intended send time, so a slow server cannot hide its queueing).
//
// Calls that start (closed loop) or are due (open loop) inside the measured
// window [warmup, warmup + duration) are counted; calls still in flight at
// the end of the window are waited for.
#ifndef RECURRENT_BENCH_LOADGEN_DRIVER_H_
#define RECURRENT_BENCH_LOADGEN_DRIVER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/workload.h"
#include "grpcpp/grpcpp.h"

namespace recurrent::bench {

enum class CallKind {
  kGet = 0,
  kList = 1,
  kImport = 2,
  kMrr = 3,        // GetMrr of the source, now
  kMrrSeries = 4,  // GetMrrSeries of the source, monthly
};
inline constexpr int kCallKinds = 5;
const char* CallKindName(CallKind kind);

struct DriverOptions {
  std::string target;  // host:port
  int channels = 4;
  int depth = 8;              // calls in flight per channel (closed loop)
  int threads = 1;            // completion-queue threads
  double rate = 0;            // calls per second; > 0 selects the open loop
  int max_in_flight = 20000;  // open loop: beyond this, calls are skipped
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  absl::Duration deadline = absl::Seconds(30);  // per call
  // Probability of each kind per call (need not sum to 1; normalized).
  std::array<double, kCallKinds> mix = {1, 0, 0, 0, 0};
  uint64_t seed = 1;
  // GetCustomer reads the customers in list order (round robin) rather than
  // at random: one pass reads each once, e.g. to fill the server's cache.
  bool customers_in_order = false;
  // With customers_in_order: the window ends once every customer was read
  // (or at its duration, if that comes first).
  bool one_pass = false;
};

// What the calls need; shared, read-only during the run.
// WorkloadData::get_as_of meaning "the instant each call is sent".
inline const absl::Time kNowAsOf = absl::InfiniteFuture();

struct WorkloadData {
  std::vector<std::string> customers;    // read by GetCustomer
  // GetCustomer's as_of: unset sends none; kNowAsOf sends each call's send
  // time; any other instant is sent as is.
  std::optional<absl::Time> get_as_of;
  std::vector<std::string> list_tokens;  // pages of ListCustomers(PAST_DUE)
  int list_page_size = 50;
  std::vector<std::string> import_customers;  // receive imports
  std::string import_source_uuid;             // their (or one of their) source
  ImportShape import_shape;
  std::string run_id;  // makes imported external ids unique per run
  absl::Time import_now;
  v1::GetMrrRequest mrr_request;
  v1::GetMrrSeriesRequest mrr_series_request;
};

struct KindResult {
  LatencyHistogram latency;  // successful and failed calls
  int64_t ok = 0;
  std::map<int, int64_t> errors;           // by grpc::StatusCode
  std::map<int, std::string> first_error;  // a message per code
};

struct DriverResult {
  std::array<KindResult, kCallKinds> kinds;
  double window_seconds = 0;
  int64_t skipped = 0;            // open loop: not sent, too many in flight
  double client_cpu_seconds = 0;  // this process, during the window
};

// Called at the start and the end of the measured window (on the driver's
// thread), e.g. to sample the server's CPU time or start an operation the
// window measures the calls during.
struct WindowHooks {
  std::function<void()> on_start;
  std::function<void()> on_end;
  // Polled during the window (every 5 ms): once it returns true the window
  // ends there, before its duration.
  std::function<bool()> done;
};

DriverResult RunDriver(const DriverOptions& options, const WorkloadData& data,
                       const WindowHooks& hooks);

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_LOADGEN_DRIVER_H_
