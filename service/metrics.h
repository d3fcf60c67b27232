// Metrics: what recurrentd reports to Prometheus (docs/operations.md,
// "Metrics"), rendered in the text exposition format 0.0.4.
//
//   Metrics metrics;
//   metrics.AddGauge("recurrent_executor_queued_calls", "Calls waiting...",
//                    {{"executor", "reads"}}, [&] { return reads.queued(); });
//   grpc::ServerBuilder builder;
//   builder.experimental().SetInterceptorCreators(...MakeCallMetrics...);
//   std::string page = metrics.Render();
//
// Calls are counted by a gRPC server interceptor (MakeCallMetricsInterceptor
// below): per method, calls by status code, a latency histogram and the
// calls in flight. Everything else is read when the page is rendered, from
// callbacks registered once; a callback must be cheap and thread-safe (it
// runs on the HTTP server's thread, never on gRPC's). Counters that the
// service itself increments are Counter objects owned here.
//
// Thread-safe.
#ifndef RECURRENT_SERVICE_METRICS_H_
#define RECURRENT_SERVICE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace recurrent::service {

class Metrics {
 public:
  // Labels of one series, e.g. {{"executor", "reads"}}.
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // A monotonically increasing value the service adds to.
  class Counter {
   public:
    void Add(double delta);
    double value() const { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<double> value_{0};
  };

  // The upper bounds of the call latency histogram's buckets, in seconds.
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A counter owned here, rendered as `name` (which ends in _total).
  Counter* AddCounter(const std::string& name, const std::string& help);
  // A gauge (or, with kCounter, a counter kept elsewhere) read from `value`
  // at each render. Several series of one name differ by their labels and
  // share the first one's help.
  enum class Type { kGauge, kCounter };
  void AddCallback(const std::string& name, const std::string& help,
                   Labels labels, std::function<double()> value,
                   Type type = Type::kGauge);

  // The calls of one method (what CallStarted returns).
  struct MethodStats {
    std::atomic<int64_t> in_flight{0};
    std::array<std::atomic<int64_t>, 17> by_code{};  // grpc::StatusCode 0..16
    // Not cumulative: bucket i counts latencies in (bound i-1, bound i];
    // the last one those above every bound.
    std::array<std::atomic<int64_t>, kLatencyBuckets.size() + 1> buckets{};
    std::atomic<int64_t> latency_sum_ns{0};
  };

  // Counted by the interceptor: `method` is the full gRPC method name
  // ("/recurrent.v1.CustomerService/GetCustomer"); `code` a grpc::StatusCode.
  // The method's stats are looked up once per call, at its start.
  MethodStats* CallStarted(absl::string_view method);
  static void CallFinished(MethodStats* stats, int code,
                           absl::Duration latency);

  // The whole page, in the text exposition format.
  std::string Render() const;

 private:
  struct Series {
    std::string name;
    std::string help;
    Type type;
    Labels labels;
    std::function<double()> value;
  };

  MethodStats& StatsOf(absl::string_view method);

  mutable std::shared_mutex methods_mu_;
  absl::node_hash_map<std::string, MethodStats> methods_;
  mutable std::mutex series_mu_;
  std::vector<Series> series_;
  std::vector<std::unique_ptr<Counter>> counters_;
};

// What reprocesses did: settings changes applied and ReprocessDataSource
// calls (dry runs are not counted). rate(customers) / rate(seconds) is
// their speed in customers per second.
class ReprocessMetrics {
 public:
  explicit ReprocessMetrics(Metrics& metrics);
  void Record(absl::Duration took, int64_t customers);

 private:
  Metrics::Counter* const runs_;
  Metrics::Counter* const seconds_;
  Metrics::Counter* const customers_;
};

// The interceptor factory that counts every call in `metrics` (not owned;
// must outlive the server).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallMetricsInterceptor(Metrics* metrics);

// Process metrics from /proc/self, in the standard names of Prometheus's
// client libraries: process_resident_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_start_time_seconds.
void AddProcessMetrics(Metrics& metrics);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_METRICS_H_
