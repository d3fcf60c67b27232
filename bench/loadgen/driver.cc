#include "bench/loadgen/driver.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace recurrent::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SelfCpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) /
             1e6;
}

struct Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CustomerService::Stub> customers;
  std::unique_ptr<v1::InvoiceService::Stub> invoices;
  std::unique_ptr<v1::MetricsService::Stub> metrics;
  grpc::CompletionQueue* cq = nullptr;
};

// One call in flight; the completion queue's tag.
struct Call {
  virtual ~Call() = default;
  // Sends the call; its completion is this call's tag.
  virtual void Finish() = 0;
  CallKind kind = CallKind::kGet;
  int channel = 0;
  SteadyClock::time_point start;  // intended (open loop) or actual send
  grpc::ClientContext context;
  grpc::Status status;
};

template <typename Request, typename Response>
struct TypedCall : Call {
  Request request;
  Response response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;

  void Finish() override {
    reader->StartCall();
    reader->Finish(&response, &status, this);
  }
};

class Runner {
 public:
  Runner(const DriverOptions& options, const WorkloadData& data)
      : options_(options), data_(data) {
    double total = 0;
    for (double p : options_.mix) total += p;
    double sum = 0;
    for (int i = 0; i < kCallKinds; ++i) {
      sum += options_.mix[i] / total;
      cumulative_[i] = sum;
    }
    for (int i = 0; i < options_.threads; ++i) {
      cqs_.push_back(std::make_unique<grpc::CompletionQueue>());
      results_.push_back(std::make_unique<DriverResult>());
    }
    for (int i = 0; i < options_.channels; ++i) {
      grpc::ChannelArguments args;
      // One TCP connection per channel (channels otherwise share one).
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(64 << 20);
      args.SetMaxSendMessageSize(64 << 20);
      Channel channel;
      channel.channel = grpc::CreateCustomChannel(
          options_.target, grpc::InsecureChannelCredentials(), args);
      channel.customers = v1::CustomerService::NewStub(channel.channel);
      channel.invoices = v1::InvoiceService::NewStub(channel.channel);
      channel.metrics = v1::MetricsService::NewStub(channel.channel);
      channel.cq = cqs_[i % options_.threads].get();
      channels_.push_back(std::move(channel));
    }
    import_offset_ = std::mt19937_64(options_.seed)() % 1000003;
  }

  DriverResult Run(const WindowHooks& hooks) {
    for (Channel& channel : channels_) {
      channel.channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10));
    }
    const auto begin = SteadyClock::now();
    window_start_ = begin + absl::ToChronoNanoseconds(options_.warmup);
    window_end_ns_ = (window_start_ + absl::ToChronoNanoseconds(options_.duration))
                         .time_since_epoch()
                         .count();

    std::vector<std::thread> threads;
    for (int i = 0; i < options_.threads; ++i) {
      threads.emplace_back([this, i] { Drain(i); });
    }
    std::thread pacer;
    std::mt19937_64 rng(options_.seed);
    if (options_.rate > 0) {
      pacer = std::thread([this, begin] { Pace(begin); });
    } else {
      for (int c = 0; c < options_.channels; ++c) {
        for (int d = 0; d < options_.depth; ++d) {
          in_flight_.fetch_add(1);
          StartCall(c, SteadyClock::now(), rng);
        }
      }
    }
    std::this_thread::sleep_until(window_start_);
    if (hooks.on_start) hooks.on_start();
    const double cpu_start = SelfCpuSeconds();
    while (SteadyClock::now() < WindowEnd() &&
           !(PassStarted() && in_flight_.load() == 0)) {
      if (hooks.done && hooks.done()) {
        // Ends the window now: later calls are neither sent nor counted.
        window_end_ns_ = SteadyClock::now().time_since_epoch().count();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto stopped = std::min(SteadyClock::now(), WindowEnd());
    const double cpu_end = SelfCpuSeconds();
    if (hooks.on_end) hooks.on_end();
    if (pacer.joinable()) pacer.join();
    while (in_flight_.load() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& cq : cqs_) cq->Shutdown();
    for (std::thread& thread : threads) thread.join();

    DriverResult total;
    for (const auto& result : results_) {
      for (int k = 0; k < kCallKinds; ++k) {
        KindResult& into = total.kinds[k];
        const KindResult& from = result->kinds[k];
        into.latency.Merge(from.latency);
        into.ok += from.ok;
        for (const auto& [code, count] : from.errors)
          into.errors[code] += count;
        into.first_error.insert(from.first_error.begin(),
                                from.first_error.end());
      }
    }
    total.skipped = skipped_.load();
    total.window_seconds =
        std::chrono::duration<double>(stopped - window_start_).count();
    total.client_cpu_seconds = cpu_end - cpu_start;
    return total;
  }

 private:
  CallKind PickKind(std::mt19937_64& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    for (int i = 0; i < kCallKinds; ++i) {
      if (u < cumulative_[i]) return static_cast<CallKind>(i);
    }
    return CallKind::kGet;
  }

  template <typename T>
  static const T& Pick(const std::vector<T>& items, std::mt19937_64& rng) {
    return items[rng() % items.size()];
  }

  // Starts one call on channel `c` (in_flight_ already counts it).
  void StartCall(int c, SteadyClock::time_point start, std::mt19937_64& rng) {
    Channel& channel = channels_[c];
    const CallKind kind = PickKind(rng);
    Call* base = nullptr;
    switch (kind) {
      case CallKind::kGet: {
        auto* call = new TypedCall<v1::GetCustomerRequest, v1::Customer>;
        call->request.set_uuid(
            options_.customers_in_order
                ? data_.customers[get_seq_.fetch_add(1) % data_.customers.size()]
                : Pick(data_.customers, rng));
        if (data_.get_as_of.has_value()) {
          const int64_t micros = absl::ToUnixMicros(
              *data_.get_as_of == kNowAsOf ? absl::Now() : *data_.get_as_of);
          call->request.mutable_as_of()->set_seconds(micros / 1000000);
          call->request.mutable_as_of()->set_nanos(
              static_cast<int32_t>(micros % 1000000) * 1000);
        }
        call->reader = channel.customers->PrepareAsyncGetCustomer(
            &call->context, call->request, channel.cq);
        base = call;
        break;
      }
      case CallKind::kList: {
        auto* call =
            new TypedCall<v1::ListCustomersRequest, v1::ListCustomersResponse>;
        call->request.set_status(v1::CUSTOMER_STATUS_PAST_DUE);
        call->request.set_page_size(data_.list_page_size);
        call->request.set_page_token(Pick(data_.list_tokens, rng));
        call->reader = channel.customers->PrepareAsyncListCustomers(
            &call->context, call->request, channel.cq);
        base = call;
        break;
      }
      case CallKind::kImport: {
        auto* call = new TypedCall<v1::ImportInvoicesRequest,
                                   v1::ImportInvoicesResponse>;
        const int64_t seq = import_seq_.fetch_add(1);
        const std::string& customer =
            data_.import_customers[(import_offset_ + seq) %
                                   data_.import_customers.size()];
        call->request = MakeImportRequest(data_.import_shape, customer,
                                          data_.import_source_uuid,
                                          data_.run_id, seq, data_.import_now);
        call->reader = channel.invoices->PrepareAsyncImportInvoices(
            &call->context, call->request, channel.cq);
        base = call;
        break;
      }
      case CallKind::kMrr: {
        auto* call = new TypedCall<v1::GetMrrRequest, v1::GetMrrResponse>;
        call->request = data_.mrr_request;
        call->reader = channel.metrics->PrepareAsyncGetMrr(
            &call->context, call->request, channel.cq);
        base = call;
        break;
      }
      case CallKind::kMrrSeries: {
        auto* call = new TypedCall<v1::GetMrrSeriesRequest,
                                   v1::GetMrrSeriesResponse>;
        call->request = data_.mrr_series_request;
        call->reader = channel.metrics->PrepareAsyncGetMrrSeries(
            &call->context, call->request, channel.cq);
        base = call;
        break;
      }
    }
    base->kind = kind;
    base->channel = c;
    base->start = start;
    base->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(options_.deadline));
    base->Finish();
  }

  // True once a one-pass run has started a read of every customer.
  bool PassStarted() const {
    return options_.one_pass && options_.customers_in_order &&
           get_seq_.load() >= data_.customers.size();
  }

  bool InWindow(SteadyClock::time_point t) const {
    return t >= window_start_ && t < WindowEnd();
  }

  SteadyClock::time_point WindowEnd() const {
    return SteadyClock::time_point(SteadyClock::duration(window_end_ns_.load()));
  }

  void Drain(int thread) {
    std::mt19937_64 rng(options_.seed * 7919 + thread + 1);
    DriverResult& result = *results_[thread];
    grpc::CompletionQueue& cq = *cqs_[thread];
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const auto now = SteadyClock::now();
      if (InWindow(call->start)) {
        KindResult& kind = result.kinds[static_cast<int>(call->kind)];
        kind.latency.Record(
            std::chrono::duration_cast<std::chrono::microseconds>(now -
                                                                  call->start)
                .count());
        if (call->status.ok()) {
          ++kind.ok;
        } else {
          ++kind.errors[call->status.error_code()];
          kind.first_error.emplace(call->status.error_code(),
                                   call->status.error_message());
        }
      }
      if (options_.rate <= 0 && now < WindowEnd() && !PassStarted()) {
        in_flight_.fetch_add(1);
        StartCall(call->channel, now, rng);
      }
      in_flight_.fetch_sub(1);
    }
  }

  void Pace(SteadyClock::time_point begin) {
    std::mt19937_64 rng(options_.seed * 104729);
    const double interval_ns = 1e9 / options_.rate;
    int c = 0;
    for (int64_t i = 0;; ++i) {
      const auto due = begin + std::chrono::nanoseconds(
                                   static_cast<int64_t>(i * interval_ns));
      if (due >= WindowEnd()) break;
      std::this_thread::sleep_until(due);
      if (in_flight_.load() >= options_.max_in_flight) {
        if (InWindow(due)) skipped_.fetch_add(1);
        continue;
      }
      in_flight_.fetch_add(1);
      StartCall(c, due, rng);
      c = (c + 1) % options_.channels;
    }
  }

  const DriverOptions& options_;
  const WorkloadData& data_;
  std::array<double, kCallKinds> cumulative_{};
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs_;
  std::vector<std::unique_ptr<DriverResult>> results_;  // per thread
  std::vector<Channel> channels_;
  SteadyClock::time_point window_start_;
  // The window's end, in SteadyClock ticks; hooks.done may move it earlier.
  std::atomic<SteadyClock::rep> window_end_ns_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> skipped_{0};
  std::atomic<int64_t> import_seq_{0};
  std::atomic<uint64_t> get_seq_{0};
  uint64_t import_offset_ = 0;
};

}  // namespace

const char* CallKindName(CallKind kind) {
  switch (kind) {
    case CallKind::kGet:
      return "GetCustomer";
    case CallKind::kList:
      return "ListCustomers";
    case CallKind::kImport:
      return "ImportInvoices";
    case CallKind::kMrr:
      return "GetMrr";
    case CallKind::kMrrSeries:
      return "GetMrrSeries";
  }
  return "?";
}

DriverResult RunDriver(const DriverOptions& options, const WorkloadData& data,
                       const WindowHooks& hooks) {
  Runner runner(options, data);
  return runner.Run(hooks);
}

}  // namespace recurrent::bench
