#include "persistence/sqlite_reprocess.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/customer_timeline.h"
#include "persistence/sqlite_source_scan.h"

namespace recurrent::persistence::sqlite {
namespace {

// A batch of consecutive customers on its way through the pipeline.
struct Chunk {
  int64_t sequence = 0;
  std::vector<StoredCustomer> customers;  // freed once evaluated
  std::vector<CustomerUpdate> updates;    // the non-empty ones
  SettingsImpact impact;
};

// An auto-churn that has happened by `now`: (subscription row, instant).
using Churn = std::pair<int64_t, int64_t>;

std::vector<Churn> ChurnsBy(const std::vector<EventKey>& events,
                            int64_t now_micros) {
  std::vector<Churn> churns;
  for (const EventKey& e : events) {
    if (e.type == engine::EventType::kAutoChurned &&
        e.occurred_at_micros <= now_micros) {
      churns.emplace_back(e.subscription_key, e.occurred_at_micros);
    }
  }
  std::sort(churns.begin(), churns.end());
  return churns;
}

// Size of the multiset difference a - b (both sorted).
int64_t CountMissing(const std::vector<Churn>& a, const std::vector<Churn>& b) {
  std::vector<Churn> missing;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(missing));
  return static_cast<int64_t>(missing.size());
}

// Plans the recompute of `customer` and adds its impact to `impact`.
absl::StatusOr<CustomerUpdate> EvaluateCustomer(const StoredCustomer& customer,
                                                const ReprocessRequest& request,
                                                SettingsImpact& impact) {
  const auto name_customer = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat("customer ", customer.uuid,
                                                    ": ", status.message()));
  };
  absl::StatusOr<CustomerUpdate> update =
      PlanRecompute(customer, request.settings, request.now);
  if (!update.ok()) return name_customer(update.status());
  const int64_t now_micros = absl::ToUnixMicros(request.now);

  engine::CustomerStatus status_before = customer.status;
  std::vector<Churn> churns_before;
  if (request.settings_before.has_value()) {
    absl::StatusOr<engine::CustomerTimeline> before =
        engine::CustomerTimeline::Build(customer.facts,
                                        *request.settings_before);
    if (!before.ok()) return name_customer(before.status());
    status_before = before->StatusAt(request.now);
    RECURRENT_ASSIGN_OR_RETURN(const std::vector<EventKey> events,
                               TimelineEvents(customer, *before));
    churns_before = ChurnsBy(events, now_micros);
  } else {
    std::vector<EventKey> stored;
    stored.reserve(customer.events.size());
    for (const StoredEvent& e : customer.events) {
      stored.push_back(EventKey{e.subscription_key, e.type,
                                absl::ToUnixMicros(e.occurred_at)});
    }
    churns_before = ChurnsBy(stored, now_micros);
  }
  const std::vector<Churn> churns_after = ChurnsBy(update->events, now_micros);

  ++impact.customers_reprocessed;
  impact.auto_churns_reversed += CountMissing(churns_before, churns_after);
  impact.auto_churns_applied += CountMissing(churns_after, churns_before);
  if (status_before != update->status) ++impact.customers_status_changed;
  update->events = {};  // not needed any more
  return update;
}

void Add(const SettingsImpact& part, SettingsImpact& total) {
  total.customers_reprocessed += part.customers_reprocessed;
  total.auto_churns_reversed += part.auto_churns_reversed;
  total.auto_churns_applied += part.auto_churns_applied;
  total.customers_status_changed += part.customers_status_changed;
}

// A reprocess is background batch work, and the server serves reads
// throughout. Its scan and evaluation threads therefore run under
// SCHED_IDLE: they use only CPU time no other thread of the machine wants,
// and a request thread that wakes up takes their core at once (nice 10 let
// them finish their time slice first: reads' p99 during a reprocess was
// ~2x higher, docs/performance.md). Should they starve (the machine is
// saturated: while the consumer waited ReprocessRequest::promote_after for a
// chunk, they got almost no CPU), the consumer moves them to SCHED_OTHER at
// nice 10, so that a reprocess, which holds the write lock, always
// progresses. Linux applies both per thread; failure only means the default
// priority.
void RunAsBackgroundThread() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
}

void PromoteBackgroundThread(std::thread& thread) {
  sched_param param{};
  pthread_setschedparam(thread.native_handle(), SCHED_OTHER, &param);
}

// The CPU time `threads` have used so far.
absl::Duration CpuTime(std::vector<std::thread>& threads) {
  absl::Duration total = absl::ZeroDuration();
  for (std::thread& thread : threads) {
    clockid_t clock;
    timespec used;
    if (pthread_getcpuclockid(thread.native_handle(), &clock) == 0 &&
        clock_gettime(clock, &used) == 0) {
      total += absl::DurationFromTimespec(used);
    }
  }
  return total;
}

// The state shared by the pipeline's threads.
class Pipeline {
 public:
  Pipeline(Connection& scan_db, const ReprocessRequest& request)
      : scan_db_(scan_db),
        request_(request),
        max_in_flight_(request.threads + 2) {}

  // Runs the scan and the evaluators, hands evaluated chunks to `consume`
  // in order on the calling thread, and returns the first error.
  template <typename Consume>
  absl::StatusOr<int64_t> Run(Consume consume) {
    std::vector<std::thread> threads;
    threads.emplace_back([this] {
      RunAsBackgroundThread();
      Scan();
    });
    for (int i = 0; i < request_.threads; ++i) {
      threads.emplace_back([this] {
        RunAsBackgroundThread();
        Evaluate();
      });
    }
    // Starved: in the last promote_after, the threads together ran for less
    // than a twentieth of it (a slow first query is not starvation).
    bool promoted = false;
    absl::Duration cpu_seen = absl::ZeroDuration();
    auto check_starved = [&] {
      if (promoted) return;
      const absl::Duration cpu = CpuTime(threads);
      if (cpu - cpu_seen < request_.promote_after / 20 ||
          request_.promote_after == absl::ZeroDuration()) {
        promoted = true;
        for (std::thread& thread : threads) PromoteBackgroundThread(thread);
      }
      cpu_seen = cpu;
    };
    for (int64_t next = 0;; ++next) {
      std::unique_ptr<Chunk> chunk = TakeEvaluated(next, check_starved);
      if (chunk == nullptr) break;
      if (absl::Status status = consume(*chunk); !status.ok()) {
        Fail(status);
        break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      changed_.notify_all();
    }
    for (std::thread& thread : threads) thread.join();
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    return rows_scanned_;
  }

 private:
  void Fail(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = status;
    changed_.notify_all();
  }

  // Reads chunks while fewer than max_in_flight_ are in the pipeline.
  void Scan() {
    absl::StatusOr<SourceScanner> scanner =
        SourceScanner::Start(scan_db_, request_.source_key);
    if (!scanner.ok()) return Finish(scanner.status(), 0);
    for (int64_t sequence = 0;; ++sequence) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] {
          return in_flight_ < max_in_flight_ || !error_.ok();
        });
        if (!error_.ok()) break;
      }
      auto chunk = std::make_unique<Chunk>();
      chunk->sequence = sequence;
      chunk->customers.resize(request_.chunk_customers);
      size_t size = 0;
      while (size < chunk->customers.size()) {
        absl::StatusOr<bool> more = scanner->Next(chunk->customers[size]);
        if (!more.ok()) return Finish(more.status(), scanner->rows_scanned());
        if (!*more) break;
        ++size;
      }
      chunk->customers.resize(size);
      if (size == 0) break;
      std::lock_guard<std::mutex> lock(mu_);
      scanned_.push_back(std::move(chunk));
      ++in_flight_;
      changed_.notify_all();
    }
    Finish(absl::OkStatus(), scanner->rows_scanned());
  }

  void Finish(const absl::Status& status, int64_t rows_scanned) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = status;
    scan_done_ = true;
    rows_scanned_ = rows_scanned;
    changed_.notify_all();
  }

  void Evaluate() {
    while (true) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] {
          return !scanned_.empty() || scan_done_ || !error_.ok();
        });
        if (!error_.ok() || scanned_.empty()) return;
        chunk = std::move(scanned_.front());
        scanned_.pop_front();
      }
      for (const StoredCustomer& customer : chunk->customers) {
        absl::StatusOr<CustomerUpdate> update =
            EvaluateCustomer(customer, request_, chunk->impact);
        if (!update.ok()) return Fail(update.status());
        if (!update->empty()) chunk->updates.push_back(*std::move(update));
      }
      chunk->customers = {};
      std::lock_guard<std::mutex> lock(mu_);
      evaluated_[chunk->sequence] = std::move(chunk);
      changed_.notify_all();
    }
  }

  // The chunk `sequence` once evaluated, or nullptr when there is none (the
  // scan ended before it, or an error stopped the pipeline). Calls `starved`
  // (without the lock) each time promote_after passes without it.
  template <typename Starved>
  std::unique_ptr<Chunk> TakeEvaluated(int64_t sequence, Starved starved) {
    std::unique_lock<std::mutex> lock(mu_);
    auto ready = [&] {
      return evaluated_.count(sequence) > 0 || !error_.ok() ||
             (scan_done_ && scanned_.empty() && in_flight_ == 0);
    };
    while (!changed_.wait_for(
        lock, absl::ToChronoNanoseconds(request_.promote_after), ready)) {
      lock.unlock();
      starved();
      lock.lock();
    }
    if (!error_.ok()) return nullptr;
    auto it = evaluated_.find(sequence);
    if (it == evaluated_.end()) return nullptr;
    std::unique_ptr<Chunk> chunk = std::move(it->second);
    evaluated_.erase(it);
    return chunk;
  }

  Connection& scan_db_;
  const ReprocessRequest& request_;
  const int64_t max_in_flight_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  // Signalled whenever any of the state below changes; every waiter (the
  // scan, the evaluators, the consumer) rechecks its own condition.
  std::condition_variable changed_;
  // Chunks read and not yet consumed (scanned, evaluating or evaluated).
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::unique_ptr<Chunk>> scanned_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::unique_ptr<Chunk>> evaluated_ ABSL_GUARDED_BY(mu_);
  bool scan_done_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rows_scanned_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<ReprocessResult> ReprocessSource(
    Connection& scan_db, EvaluationWriter* writer,
    const ReprocessRequest& request) {
  ReprocessRequest checked = request;
  checked.threads = std::max(1, request.threads);
  checked.chunk_customers = std::max(1, request.chunk_customers);
  Pipeline pipeline(scan_db, checked);
  ReprocessResult result;
  RECURRENT_ASSIGN_OR_RETURN(
      result.rows_scanned,
      pipeline.Run([&](const Chunk& chunk) -> absl::Status {
        Add(chunk.impact, result.impact);
        if (writer == nullptr) return absl::OkStatus();
        for (const CustomerUpdate& update : chunk.updates) {
          RECURRENT_RETURN_IF_ERROR(writer->Apply(update));
        }
        return absl::OkStatus();
      }));
  return result;
}

}  // namespace recurrent::persistence::sqlite
