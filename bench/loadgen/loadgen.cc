// recurrent-loadgen: a gRPC load generator for recurrentd (and for
// bench/baseline_server.cc, which serves the same API). See
// docs/performance.md, section "Service"; bench/run drives it.
//
//   recurrent-loadgen --target=127.0.0.1:50051 --scenario=get
//       --channels=4 --depth=8 --warmup=2s --duration=10s
//
// Scenarios (over customers of the source --source, "bench" in databases
// seeded by bench/seed_database.cc):
//   get     GetCustomer of a random customer
//   list    ListCustomers(status=PAST_DUE, page_size=50), a random page
//   import  ImportInvoices: --import_invoices invoices x 3 line items with a
//           payment each, fresh external ids per batch, customers in turn
//   mix     --mix_read GetCustomer, the rest ImportInvoices of
//           --mix_import_invoices invoices
// Closed loop by default (--channels x --depth calls in flight); --rate
// selects a fixed-rate open loop whose latency counts from the intended send
// time. --reprocess_source reprocesses that source back to back (over gRPC)
// while the load runs. --update_settings_source saves new settings of that
// source (--update_settings) once, at the start of the measured window, and
// the window ends when that call returns: it measures the calls served
// during one settings change (docs/performance.md, "A measured million").
// --server_pid reports the server's CPU use and memory.
//
// Prints a human-readable report and one machine-readable line per call kind:
//   RESULT label=... kind=GetCustomer qps=... p50_us=... p99_us=... ...
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loadgen/driver.h"
#include "bench/loadgen/proc_stats.h"
#include "bench/loadgen/workload.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(std::string, scenario, "get", "get, list, import, mix, mrr (GetMrr of --source) or mrr_series "
          "(GetMrrSeries of --source, monthly over --series_months)");
ABSL_FLAG(std::string, label, "",
          "label of the RESULT lines (default: scenario)");
ABSL_FLAG(int, channels, 4, "gRPC channels (TCP connections)");
ABSL_FLAG(int, depth, 8, "calls in flight per channel (closed loop)");
ABSL_FLAG(int, threads, 1, "completion-queue threads");
ABSL_FLAG(double, rate, 0, "calls per second (open loop); 0: closed loop");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2), "warm-up, not measured");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured window");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "deadline per call");
ABSL_FLAG(std::string, source, "bench", "data source whose customers are used");
ABSL_FLAG(int, customers, 100000, "at most this many customers are used");
ABSL_FLAG(std::string, customer_cache, "",
          "file of customer uuids: read if it exists, else written after "
          "fetching them (saves the setup's ListCustomers calls)");
ABSL_FLAG(int, import_invoices, 100, "invoices per batch (import scenario)");
ABSL_FLAG(double, mix_read, 0.9, "share of reads in the mix scenario");
ABSL_FLAG(int, mix_import_invoices, 1, "invoices per batch (mix scenario)");
ABSL_FLAG(int, series_months, 36,
          "months of the mrr_series scenario, ending with the current one");
ABSL_FLAG(std::string, reprocess_source, "",
          "reprocess this source back to back during the run");
ABSL_FLAG(std::string, as_of, "",
          "GetCustomer's as_of: empty sends none; \"now\" each call's send "
          "time; -DURATION (e.g. -720h) that long before the load generator "
          "started; or an RFC 3339 instant. An instant before the server's "
          "cached answers (service/customer_cache.h) always misses the cache");
ABSL_FLAG(std::string, update_settings_source, "",
          "UpdateSettings of this source once, applied, at the start of the "
          "measured window, which ends when the call returns (--duration is "
          "then an upper bound)");
ABSL_FLAG(std::string, update_settings, "auto_churn:14",
          "the settings --update_settings_source saves: keep or "
          "auto_churn:DAYS");
ABSL_FLAG(int, server_pid, 0, "server process to report CPU and memory of");
ABSL_FLAG(uint64_t, seed, 1, "random seed");
ABSL_FLAG(bool, customers_in_order, false,
          "GetCustomer reads the customers in order instead of at random "
          "(one pass reads each once: fills the server's cache)");
ABSL_FLAG(bool, one_pass, false,
          "with --customers_in_order: stop once every customer was read "
          "(--duration is then an upper bound)");

namespace recurrent::bench {
namespace {

// Samples the server every second of the measured window.
class ServerMonitor {
 public:
  explicit ServerMonitor(pid_t pid) : pid_(pid) {}
  ~ServerMonitor() { Stop(); }

  void Start() {
    if (pid_ <= 0) return;
    first_ = SampleProcess(pid_);
    thread_ = std::thread([this] {
      absl::MutexLock lock(&mu_);
      while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1))) {
        if (auto sample = SampleProcess(pid_)) {
          min_rss_ = std::min(min_rss_, sample->rss_mb);
          max_rss_ = std::max(max_rss_, sample->rss_mb);
        }
      }
    });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    last_ = SampleProcess(pid_);
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  std::string Report(double seconds) {
    if (!first_ || !last_) return "";
    absl::MutexLock lock(&mu_);
    const double min_rss =
        std::min(min_rss_, std::min(first_->rss_mb, last_->rss_mb));
    const double max_rss =
        std::max(max_rss_, std::max(first_->rss_mb, last_->rss_mb));
    return absl::StrFormat(
        " server_cpu_pct=%.0f server_rss_start_mb=%.1f server_rss_end_mb=%.1f"
        " server_rss_min_mb=%.1f server_rss_max_mb=%.1f server_hwm_mb=%.1f",
        100 * (last_->cpu_seconds - first_->cpu_seconds) / seconds,
        first_->rss_mb, last_->rss_mb, min_rss, max_rss, last_->peak_rss_mb);
  }

 private:
  const pid_t pid_;
  std::optional<ProcessSample> first_, last_;
  std::thread thread_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  double min_rss_ ABSL_GUARDED_BY(mu_) = 1e18;
  double max_rss_ ABSL_GUARDED_BY(mu_) = 0;
};

// Reprocesses a source back to back until stopped.
class BackgroundReprocess {
 public:
  BackgroundReprocess(const std::string& target, std::string uuid)
      : uuid_(std::move(uuid)) {
    stub_ = v1::SourceSettingsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    thread_ = std::thread([this] { Loop(); });
  }
  ~BackgroundReprocess() {
    stop_ = true;
    thread_.join();
  }
  std::string Report() const {
    return absl::StrFormat("%d reprocesses completed (%d failed), last %.2f s",
                           completed_.load(), failed_.load(),
                           last_seconds_.load());
  }

 private:
  void Loop() {
    while (!stop_) {
      grpc::ClientContext context;
      v1::ReprocessDataSourceRequest request;
      request.set_data_source_uuid(uuid_);
      v1::ReprocessDataSourceResponse response;
      const absl::Time start = absl::Now();
      const grpc::Status status =
          stub_->ReprocessDataSource(&context, request, &response);
      last_seconds_ = absl::ToDoubleSeconds(absl::Now() - start);
      if (status.ok()) {
        ++completed_;
      } else {
        ++failed_;
        std::fprintf(stderr, "reprocess: %s\n", status.error_message().c_str());
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  }

  const std::string uuid_;
  std::unique_ptr<v1::SourceSettingsService::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<int> completed_{0}, failed_{0};
  std::atomic<double> last_seconds_{0};
  std::thread thread_;
};

// One UpdateSettings call (applied, not a dry run) on its own thread.
class SettingsUpdate {
 public:
  SettingsUpdate(const std::string& target, v1::UpdateSettingsRequest request)
      : request_(std::move(request)) {
    stub_ = v1::SourceSettingsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }
  ~SettingsUpdate() {
    if (thread_.joinable()) thread_.join();
  }
  void Start() {
    thread_ = std::thread([this] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::hours(1));
      v1::UpdateSettingsResponse response;
      const absl::Time start = absl::Now();
      status_ = stub_->UpdateSettings(&context, request_, &response);
      seconds_ = absl::ToDoubleSeconds(absl::Now() - start);
      response_ = response;
      done_ = true;
    });
  }
  bool done() const { return done_.load(); }
  // After done(): the call's outcome, for the report and the RESULT line.
  std::string Report() const {
    if (!status_.ok()) {
      return absl::StrFormat("update_settings_ok=0 update_settings_error=\"%s\"",
                             status_.error_message());
    }
    const v1::SettingsImpact& impact = response_.impact();
    return absl::StrFormat(
        "update_settings_ok=1 update_settings_seconds=%.2f "
        "update_settings_applied=%d customers_reprocessed=%lld "
        "auto_churns_applied=%lld auto_churns_reversed=%lld "
        "customers_status_changed=%lld",
        seconds_, response_.applied() ? 1 : 0,
        static_cast<long long>(impact.customers_reprocessed()),
        static_cast<long long>(impact.auto_churns_applied()),
        static_cast<long long>(impact.auto_churns_reversed()),
        static_cast<long long>(impact.customers_status_changed()));
  }

 private:
  const v1::UpdateSettingsRequest request_;
  std::unique_ptr<v1::SourceSettingsService::Stub> stub_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  grpc::Status status_;
  double seconds_ = 0;
  v1::UpdateSettingsResponse response_;
};

// --update_settings: "keep" or "auto_churn:DAYS".
absl::StatusOr<v1::PastDueHandling> ParsePastDueHandling(
    const std::string& text) {
  v1::PastDueHandling handling;
  int days = 0;
  if (text == "keep") {
    handling.set_mode(v1::PAST_DUE_MODE_KEEP);
  } else if (absl::StartsWith(text, "auto_churn:") &&
             absl::SimpleAtoi(text.substr(11), &days)) {
    handling.set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
    handling.set_auto_churn_after_days(days);
  } else {
    return absl::InvalidArgumentError(
        "--update_settings: keep or auto_churn:DAYS, not " + text);
  }
  return handling;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void WriteLines(const std::string& path,
                const std::vector<std::string>& lines) {
  std::ofstream out(path + ".tmp");
  for (const std::string& line : lines) out << line << "\n";
  out.close();
  std::rename((path + ".tmp").c_str(), path.c_str());
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "recurrent-loadgen: %s\n", message.c_str());
  return 1;
}

int Run() {
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  DriverOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.depth = absl::GetFlag(FLAGS_depth);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.customers_in_order = absl::GetFlag(FLAGS_customers_in_order);
  options.one_pass = absl::GetFlag(FLAGS_one_pass);
  if (options.channels < 1 || options.depth < 1 || options.threads < 1) {
    return Fail("--channels, --depth and --threads must be at least 1");
  }

  WorkloadData data;
  if (const std::string as_of = absl::GetFlag(FLAGS_as_of); as_of == "now") {
    data.get_as_of = kNowAsOf;
  } else if (!as_of.empty() && as_of[0] == '-') {
    absl::Duration ago;
    if (!absl::ParseDuration(as_of.substr(1), &ago)) {
      return Fail("--as_of: not a duration after '-': " + as_of);
    }
    data.get_as_of = absl::Now() - ago;
  } else if (!as_of.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, as_of, &t, &error)) {
      return Fail("--as_of: " + error);
    }
    data.get_as_of = t;
  }
  data.run_id = absl::StrCat(absl::ToUnixMillis(absl::Now()), "-", getpid());
  data.import_now = absl::Now();
  if (scenario == "get") {
    options.mix = {1, 0, 0, 0, 0};
  } else if (scenario == "list") {
    options.mix = {0, 1, 0, 0, 0};
  } else if (scenario == "import") {
    options.mix = {0, 0, 1, 0, 0};
    data.import_shape.invoices = absl::GetFlag(FLAGS_import_invoices);
  } else if (scenario == "mix") {
    const double read = absl::GetFlag(FLAGS_mix_read);
    options.mix = {read, 0, 1 - read, 0, 0};
    data.import_shape.invoices = absl::GetFlag(FLAGS_mix_import_invoices);
  } else if (scenario == "mrr") {
    options.mix = {0, 0, 0, 1, 0};
  } else if (scenario == "mrr_series") {
    options.mix = {0, 0, 0, 0, 1};
  } else {
    return Fail("unknown --scenario " + scenario);
  }

  const absl::Time setup_start = absl::Now();
  auto setup =
      grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials());
  absl::StatusOr<std::string> source =
      FindDataSourceUuid(*setup, absl::GetFlag(FLAGS_source));
  if (!source.ok()) return Fail(source.status().ToString());
  const std::string cache = absl::GetFlag(FLAGS_customer_cache);
  if (!cache.empty()) data.customers = ReadLines(cache);
  if (data.customers.empty()) {
    absl::StatusOr<std::vector<std::string>> customers =
        FetchCustomerUuids(*setup, *source, absl::GetFlag(FLAGS_customers));
    if (!customers.ok()) return Fail(customers.status().ToString());
    data.customers = *customers;
    if (!cache.empty()) WriteLines(cache, data.customers);
  }
  if (static_cast<int>(data.customers.size()) >
      absl::GetFlag(FLAGS_customers)) {
    data.customers.resize(absl::GetFlag(FLAGS_customers));
  }
  if (data.customers.empty()) return Fail("the source has no customers");
  data.import_customers = data.customers;
  data.import_source_uuid = *source;
  data.mrr_request.set_data_source_uuid(*source);
  data.mrr_series_request = MakeMrrSeriesRequest(
      *source, absl::GetFlag(FLAGS_series_months), data.import_now);
  if (options.mix[static_cast<int>(CallKind::kList)] > 0) {
    absl::StatusOr<std::vector<std::string>> tokens =
        FetchPastDuePageTokens(*setup, data.list_page_size, 100000);
    if (!tokens.ok()) return Fail(tokens.status().ToString());
    data.list_tokens = *tokens;
  }
  std::printf("setup: %zu customers, %zu list pages in %.1f s\n",
              data.customers.size(), data.list_tokens.size(),
              absl::ToDoubleSeconds(absl::Now() - setup_start));

  std::unique_ptr<BackgroundReprocess> reprocess;
  if (!absl::GetFlag(FLAGS_reprocess_source).empty()) {
    absl::StatusOr<std::string> uuid =
        FindDataSourceUuid(*setup, absl::GetFlag(FLAGS_reprocess_source));
    if (!uuid.ok()) return Fail(uuid.status().ToString());
    reprocess = std::make_unique<BackgroundReprocess>(options.target, *uuid);
  }

  std::unique_ptr<SettingsUpdate> update;
  if (!absl::GetFlag(FLAGS_update_settings_source).empty()) {
    absl::StatusOr<std::string> uuid =
        FindDataSourceUuid(*setup, absl::GetFlag(FLAGS_update_settings_source));
    if (!uuid.ok()) return Fail(uuid.status().ToString());
    absl::StatusOr<v1::PastDueHandling> handling =
        ParsePastDueHandling(absl::GetFlag(FLAGS_update_settings));
    if (!handling.ok()) return Fail(handling.status().ToString());
    v1::UpdateSettingsRequest request;
    request.set_data_source_uuid(*uuid);
    *request.mutable_past_due_handling() = *handling;
    update = std::make_unique<SettingsUpdate>(options.target, request);
  }

  ServerMonitor monitor(absl::GetFlag(FLAGS_server_pid));
  WindowHooks hooks;
  hooks.on_start = [&monitor, &update] {
    monitor.Start();
    if (update != nullptr) update->Start();
  };
  if (update != nullptr) {
    hooks.done = [&update] { return update->done(); };
  }
  hooks.on_end = [&monitor] { monitor.Stop(); };
  const DriverResult result = RunDriver(options, data, hooks);
  std::string update_report;
  if (update != nullptr) {
    while (!update->done()) absl::SleepFor(absl::Milliseconds(100));
    update_report = update->Report();
  }
  std::string reprocess_report;
  if (reprocess != nullptr) {
    reprocess_report = reprocess->Report();
    reprocess.reset();
  }

  std::string label = absl::GetFlag(FLAGS_label);
  if (label.empty()) label = scenario;
  const std::string mode =
      options.rate > 0 ? absl::StrFormat("open loop %.0f/s", options.rate)
                       : absl::StrFormat("closed loop %dx%d", options.channels,
                                         options.depth);
  const std::string server = monitor.Report(result.window_seconds);
  std::printf("%s: %s, %.1f s measured after %.1f s warm-up%s\n", label.c_str(),
              mode.c_str(), result.window_seconds,
              absl::ToDoubleSeconds(options.warmup),
              result.skipped > 0
                  ? absl::StrCat(", ", result.skipped, " calls skipped").c_str()
                  : "");
  if (!reprocess_report.empty()) {
    std::printf("  background: %s\n", reprocess_report.c_str());
  }
  if (!update_report.empty()) {
    std::printf("  settings update: %s\n", update_report.c_str());
    std::printf("RESULT label=%s kind=UpdateSettings %s\n", label.c_str(),
                update_report.c_str());
  }
  for (int k = 0; k < kCallKinds; ++k) {
    const KindResult& kind = result.kinds[k];
    if (kind.latency.count() == 0) continue;
    const CallKind call_kind = static_cast<CallKind>(k);
    int64_t errors = 0;
    std::string by_code;
    for (const auto& [code, count] : kind.errors) {
      errors += count;
      absl::StrAppend(&by_code, by_code.empty() ? "" : ",", "code", code, ":",
                      count);
    }
    const double qps = static_cast<double>(kind.ok) / result.window_seconds;
    std::string rows;
    if (call_kind == CallKind::kImport) {
      rows = absl::StrFormat(
          " rows_per_s=%.0f",
          qps * static_cast<double>(RowsPerBatch(data.import_shape)));
    }
    const LatencyHistogram& h = kind.latency;
    std::printf(
        "  %-15s %9.1f ok/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  "
        "p99.9 %7.2f ms  max %7.2f ms  errors %lld%s%s\n",
        CallKindName(call_kind), qps, h.Percentile(0.5) / 1e3,
        h.Percentile(0.9) / 1e3, h.Percentile(0.99) / 1e3,
        h.Percentile(0.999) / 1e3, h.max() / 1e3,
        static_cast<long long>(errors), by_code.empty() ? "" : " ",
        by_code.c_str());
    for (const auto& [code, message] : kind.first_error) {
      std::printf("    code %d, e.g.: %s\n", code, message.c_str());
    }
    std::printf(
        "RESULT label=%s kind=%s mode=%s qps=%.1f ok=%lld errors=%lld "
        "errors_by_code=%s p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld "
        "max_us=%lld%s client_cpu_pct=%.0f skipped=%lld%s\n",
        label.c_str(), CallKindName(call_kind),
        options.rate > 0 ? "open" : "closed", qps,
        static_cast<long long>(kind.ok), static_cast<long long>(errors),
        by_code.empty() ? "none" : by_code.c_str(),
        static_cast<long long>(h.Percentile(0.5)),
        static_cast<long long>(h.Percentile(0.9)),
        static_cast<long long>(h.Percentile(0.99)),
        static_cast<long long>(h.Percentile(0.999)),
        static_cast<long long>(h.max()), rows.c_str(),
        100 * result.client_cpu_seconds / result.window_seconds,
        static_cast<long long>(result.skipped), server.c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace recurrent::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return recurrent::bench::Run();
}
