#include "service/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/support/status.h"
#include "service/errors.h"
#include "service/method_names.h"

namespace recurrent::service {
namespace {


// A label value in the exposition format: backslash, quote and newline
// escaped.
std::string Escape(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const Metrics::Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", labels[i].first, "=\"",
                    Escape(labels[i].second), "\"");
  }
  return out + "}";
}

// A sample value: integers without a fraction, others with full precision.
std::string Number(double value) {
  if (value == static_cast<double>(static_cast<int64_t>(value)) &&
      value < 9.0e15 && value > -9.0e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.12g", value);
  return buffer;
}

void Header(std::string& out, absl::string_view name, absl::string_view help,
            absl::string_view type) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

// The call counts of one method as the interceptor sees them.
class CallMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallMetricsInterceptor(Metrics* metrics, absl::string_view method)
      : stats_(metrics->CallStarted(method)),
        start_(std::chrono::steady_clock::now()) {}
  // A call that ends without a status sent (its client went away) counts
  // as CANCELLED.
  ~CallMetricsInterceptor() override {
    if (!finished_) Finish(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Finish(int code) {
    finished_ = true;
    Metrics::CallFinished(
        stats_, code,
        absl::FromChrono(std::chrono::steady_clock::now() - start_));
  }

  Metrics::MethodStats* const stats_;
  const std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

class CallMetricsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallMetricsFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallMetricsInterceptor(metrics_,
                                      KnownMethodName(info->method()));
  }

 private:
  Metrics* const metrics_;
};

// The fields of /proc/self/stat after the command name.
std::vector<std::string> ProcSelfStat() {
  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  const size_t end = text.rfind(')');
  if (end == std::string::npos) return {};
  return absl::StrSplit(text.substr(end + 2), ' ', absl::SkipEmpty());
}

double StatField(const std::vector<std::string>& fields, size_t field) {
  // `field` numbers as in proc(5); fields[0] is field 3 (state).
  double value = 0;
  if (field >= 3 && field - 3 < fields.size()) {
    (void)absl::SimpleAtod(fields[field - 3], &value);
  }
  return value;
}

double BootTimeSeconds() {
  std::ifstream file("/proc/stat");
  std::string line;
  while (std::getline(file, line)) {
    if (absl::StartsWith(line, "btime ")) {
      double value = 0;
      (void)absl::SimpleAtod(line.substr(6), &value);
      return value;
    }
  }
  return 0;
}

}  // namespace

void Metrics::Counter::Add(double delta) {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + delta,
                                       std::memory_order_relaxed)) {
  }
}

Metrics::Counter* Metrics::AddCounter(const std::string& name,
                                      const std::string& help) {
  std::lock_guard<std::mutex> lock(series_mu_);
  counters_.push_back(std::make_unique<Counter>());
  Counter* counter = counters_.back().get();
  series_.push_back(Series{name, help, Type::kCounter, {},
                           [counter] { return counter->value(); }});
  return counter;
}

void Metrics::AddCallback(const std::string& name, const std::string& help,
                          Labels labels, std::function<double()> value,
                          Type type) {
  std::lock_guard<std::mutex> lock(series_mu_);
  series_.push_back(
      Series{name, help, type, std::move(labels), std::move(value)});
}

Metrics::MethodStats& Metrics::StatsOf(absl::string_view method) {
  {
    std::shared_lock<std::shared_mutex> lock(methods_mu_);
    auto it = methods_.find(method);
    if (it != methods_.end()) return it->second;
  }
  std::unique_lock<std::shared_mutex> lock(methods_mu_);
  return methods_[method];  // a node map: the reference stays valid
}

Metrics::MethodStats* Metrics::CallStarted(absl::string_view method) {
  MethodStats& stats = StatsOf(method);
  stats.in_flight.fetch_add(1, std::memory_order_relaxed);
  return &stats;
}

void Metrics::CallFinished(MethodStats* calls, int code,
                           absl::Duration latency) {
  MethodStats& stats = *calls;
  stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (code < 0 || code >= static_cast<int>(stats.by_code.size())) {
    code = grpc::StatusCode::UNKNOWN;
  }
  stats.by_code[code].fetch_add(1, std::memory_order_relaxed);
  const double seconds = absl::ToDoubleSeconds(latency);
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) {
    ++bucket;
  }
  stats.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  stats.latency_sum_ns.fetch_add(absl::ToInt64Nanoseconds(latency),
                                 std::memory_order_relaxed);
}

std::string Metrics::Render() const {
  std::string out;
  {
    // Sorted by method, so that the page is stable between scrapes.
    std::shared_lock<std::shared_mutex> lock(methods_mu_);
    std::map<std::string, const MethodStats*> methods;
    for (const auto& [method, stats] : methods_) methods[method] = &stats;
    Header(out, "recurrent_grpc_calls_total",
           "gRPC calls finished, by method and status code.", "counter");
    for (const auto& [method, stats] : methods) {
      for (size_t code = 0; code < stats->by_code.size(); ++code) {
        const int64_t count = stats->by_code[code].load();
        if (count == 0) continue;
        absl::StrAppend(&out, "recurrent_grpc_calls_total",
                        LabelText({{"method", method},
                                   {"code", StatusCodeName(static_cast<int>(code))}}),
                        " ", count, "\n");
      }
    }
    Header(out, "recurrent_grpc_calls_in_flight",
           "gRPC calls started and not yet finished, by method.", "gauge");
    for (const auto& [method, stats] : methods) {
      absl::StrAppend(&out, "recurrent_grpc_calls_in_flight",
                      LabelText({{"method", method}}), " ",
                      stats->in_flight.load(), "\n");
    }
    Header(out, "recurrent_grpc_call_duration_seconds",
           "Time from a call's arrival to its status being sent, by method.",
           "histogram");
    for (const auto& [method, stats] : methods) {
      int64_t cumulative = 0;
      for (size_t i = 0; i <= kLatencyBuckets.size(); ++i) {
        cumulative += stats->buckets[i].load();
        const std::string bound =
            i < kLatencyBuckets.size() ? Number(kLatencyBuckets[i]) : "+Inf";
        absl::StrAppend(&out, "recurrent_grpc_call_duration_seconds_bucket",
                        LabelText({{"method", method}, {"le", bound}}), " ",
                        cumulative, "\n");
      }
      const Labels labels = {{"method", method}};
      absl::StrAppend(
          &out, "recurrent_grpc_call_duration_seconds_sum", LabelText(labels),
          " ", Number(stats->latency_sum_ns.load() / 1e9), "\n",
          "recurrent_grpc_call_duration_seconds_count", LabelText(labels), " ",
          cumulative, "\n");
    }
  }
  std::lock_guard<std::mutex> lock(series_mu_);
  // Series of one name together, under one header, in registration order.
  std::vector<std::string> names;
  std::map<std::string, std::vector<const Series*>> by_name;
  for (const Series& series : series_) {
    auto& list = by_name[series.name];
    if (list.empty()) names.push_back(series.name);
    list.push_back(&series);
  }
  for (const std::string& name : names) {
    const std::vector<const Series*>& list = by_name[name];
    Header(out, name, list.front()->help,
           list.front()->type == Type::kCounter ? "counter" : "gauge");
    for (const Series* series : list) {
      absl::StrAppend(&out, name, LabelText(series->labels), " ",
                      Number(series->value()), "\n");
    }
  }
  return out;
}

ReprocessMetrics::ReprocessMetrics(Metrics& metrics)
    : runs_(metrics.AddCounter(
          "recurrent_reprocess_runs_total",
          "Reprocesses run: settings changes applied and "
          "ReprocessDataSource calls.")),
      seconds_(metrics.AddCounter("recurrent_reprocess_seconds_total",
                                  "Time the reprocesses took, seconds.")),
      customers_(metrics.AddCounter("recurrent_reprocess_customers_total",
                                    "Customers the reprocesses evaluated.")) {
}

void ReprocessMetrics::Record(absl::Duration took, int64_t customers) {
  runs_->Add(1);
  seconds_->Add(absl::ToDoubleSeconds(took));
  customers_->Add(static_cast<double>(customers));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallMetricsInterceptor(Metrics* metrics) {
  return std::make_unique<CallMetricsFactory>(metrics);
}

void AddProcessMetrics(Metrics& metrics) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_bytes = static_cast<double>(sysconf(_SC_PAGESIZE));
  metrics.AddCallback(
      "process_cpu_seconds_total", "User and system CPU time spent, seconds.",
      {},
      [ticks] {
        const std::vector<std::string> fields = ProcSelfStat();
        return (StatField(fields, 14) + StatField(fields, 15)) / ticks;
      },
      Metrics::Type::kCounter);
  metrics.AddCallback("process_resident_memory_bytes",
                      "Resident memory size, bytes.", {}, [page_bytes] {
                        return StatField(ProcSelfStat(), 24) * page_bytes;
                      });
  metrics.AddCallback("process_open_fds", "Open file descriptors.", {}, [] {
    double count = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') ++count;
      }
      closedir(dir);
      --count;  // the descriptor of this listing
    }
    return count;
  });
  metrics.AddCallback("process_max_fds", "Limit on open file descriptors.", {},
                      [] {
                        rlimit limit;
                        if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0.0;
                        return static_cast<double>(limit.rlim_cur);
                      });
  const double boot = BootTimeSeconds();
  // Without the boot time (a /proc that hides /proc/stat), no start time
  // rather than a wrong one.
  if (boot <= 0) return;
  metrics.AddCallback(
      "process_start_time_seconds",
      "Start time of the process since the Unix epoch, seconds.", {},
      [boot, ticks] { return boot + StatField(ProcSelfStat(), 22) / ticks; });
}

}  // namespace recurrent::service
