#include "core/reprocess.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "core/background_priority.h"
#include "engine/comparison.h"
#include "engine/customer_timeline.h"
#include "engine/mrr.h"

namespace recurrent::core {
namespace {

using persistence::CustomerState;
using persistence::SettingsImpact;

// A batch of consecutive customers on its way through the pipeline.
struct Chunk {
  int64_t sequence = 0;
  std::vector<CustomerState> customers;  // freed once evaluated
  std::vector<Recompute> recomputes;     // the non-empty ones
  SettingsImpact impact;
  std::optional<SubscriptionChanges> changes;  // with list_changes
};

// Adds to `changes` the subscriptions of `customer` that `comparison` (of
// `before` and `after` at `now`) concerns.
absl::Status ListChanges(const CustomerState& customer,
                         const engine::CustomerTimeline& before,
                         const engine::CustomerTimeline& after, absl::Time now,
                         const engine::Comparison& comparison,
                         SubscriptionChanges& changes) {
  const std::vector<engine::SubscriptionComparison> compared_subscriptions =
      engine::CompareSubscriptions(before, after, now, comparison);
  if (compared_subscriptions.empty()) return absl::OkStatus();
  // The rows by (source, external id), as the engine names subscriptions.
  using Name = std::pair<absl::string_view, absl::string_view>;
  const auto name_of = [](const persistence::SubscriptionRow* s) {
    return Name(s->ref.data_source_uuid, s->ref.external_id);
  };
  std::vector<const persistence::SubscriptionRow*> rows;
  rows.reserve(customer.subscriptions.size());
  for (const persistence::SubscriptionRow& s : customer.subscriptions) {
    rows.push_back(&s);
  }
  std::sort(rows.begin(), rows.end(),
            [&](const persistence::SubscriptionRow* a,
                const persistence::SubscriptionRow* b) {
              return name_of(a) < name_of(b);
            });
  for (const engine::SubscriptionComparison& compared : compared_subscriptions) {
    const Name name(compared.data_source_uuid,
                    compared.subscription_external_id);
    auto found = std::lower_bound(
        rows.begin(), rows.end(), name,
        [&](const persistence::SubscriptionRow* s, const Name& n) {
          return name_of(s) < n;
        });
    if (found == rows.end() || name_of(*found) != name) {
      return absl::InternalError(
          absl::StrCat("customer ", customer.customer.uuid, ": subscription ",
                       compared.subscription_external_id, " has no row"));
    }
    const persistence::SubscriptionRow* row = *found;
    SubscriptionChange change;
    change.subscription_uuid = row->ref.uuid;
    change.subscription_external_id = row->ref.external_id;
    change.customer_uuid = customer.customer.uuid;
    change.customer_external_id = customer.customer.external_id;
    change.status_before = compared.status_before;
    change.status_after = compared.status_after;
    change.auto_churns_added = compared.auto_churns_applied;
    change.auto_churns_removed = compared.auto_churns_reversed;
    changes.Add(std::move(change));
  }
  return absl::OkStatus();
}

// Adds `cents` of `currency` to `amounts` (sorted by currency).
void AddAmount(std::vector<engine::MrrAmount>& amounts,
               absl::string_view currency, int64_t cents) {
  auto it = std::lower_bound(amounts.begin(), amounts.end(), currency,
                             [](const engine::MrrAmount& a,
                                absl::string_view c) { return a.currency < c; });
  if (it == amounts.end() || it->currency != currency) {
    it = amounts.insert(it, engine::MrrAmount{std::string(currency), 0});
  }
  it->mrr_in_cents += cents;
}

void AddAmounts(const std::vector<engine::MrrAmount>& part, int64_t sign,
                std::vector<engine::MrrAmount>& total) {
  for (const engine::MrrAmount& amount : part) {
    AddAmount(total, amount.currency, sign * amount.mrr_in_cents);
  }
}

void DropZeros(std::vector<engine::MrrAmount>& amounts) {
  amounts.erase(std::remove_if(amounts.begin(), amounts.end(),
                               [](const engine::MrrAmount& amount) {
                                 return amount.mrr_in_cents == 0;
                               }),
                amounts.end());
}

// True iff the subscription is cancelled at `t` by an auto-churn: its last
// event at or before `t` is AUTO_CHURNED.
bool AutoChurnedAt(const engine::SubscriptionTimeline& timeline,
                   absl::Time t) {
  const std::vector<engine::SubscriptionEvent>& events = timeline.events();
  auto after = std::upper_bound(
      events.begin(), events.end(), t,
      [](absl::Time t, const engine::SubscriptionEvent& event) {
        return t < event.occurred_at;
      });
  return after != events.begin() &&
         std::prev(after)->type == engine::EventType::kAutoChurned;
}

// Adds to `impact` what going from `before` to `after` (timelines of
// `customer`'s facts) does to its MRR at `now`: the change per currency,
// and the MRR before of the subscriptions auto-churned at `now` after and
// not before (SettingsImpact). Only called when the two differ in an event
// by `now`: with the same events, every subscription has the same status
// history up to `now`, hence the same MRR (M2).
void AddMrrImpact(const CustomerState& customer,
                  const engine::CustomerTimeline& before,
                  const engine::CustomerTimeline& after, absl::Time now,
                  SettingsImpact& impact) {
  const engine::MrrTimeline mrr_before =
      engine::MrrTimeline::Build(customer.facts, before);
  const engine::MrrTimeline mrr_after =
      engine::MrrTimeline::Build(customer.facts, after);
  AddAmounts(mrr_after.CustomerMrrAt(now), 1, impact.mrr_change);
  AddAmounts(mrr_before.CustomerMrrAt(now), -1, impact.mrr_change);
  // Both lists are sorted by (source, external id).
  const auto& subs_before = before.subscriptions();
  auto it = subs_before.begin();
  for (const engine::CustomerTimeline::Subscription& sub :
       after.subscriptions()) {
    if (!AutoChurnedAt(sub.timeline, now)) continue;
    const auto name = [](const engine::CustomerTimeline::Subscription& s) {
      return std::tie(s.data_source_uuid, s.subscription_external_id);
    };
    while (it != subs_before.end() && name(*it) < name(sub)) ++it;
    if (it != subs_before.end() && name(*it) == name(sub) &&
        AutoChurnedAt(it->timeline, now)) {
      continue;
    }
    const std::optional<engine::MrrAmount> churned =
        mrr_before.SubscriptionMrrAt(sub.data_source_uuid,
                                     sub.subscription_external_id, now);
    if (churned.has_value() && churned->mrr_in_cents != 0) {
      AddAmount(impact.churned_mrr, churned->currency, churned->mrr_in_cents);
    }
  }
}

// Plans the recompute of `customer`, adds its impact to `impact` and, when
// `changes` is not null, its changed subscriptions to `changes`.
absl::StatusOr<Recompute> EvaluateCustomer(const CustomerState& customer,
                                           const ReprocessRequest& request,
                                           SettingsImpact& impact,
                                           SubscriptionChanges* changes) {
  RECURRENT_ASSIGN_OR_RETURN(const engine::CustomerTimeline timeline,
                             BuildTimeline(customer, request.settings));
  const engine::Published stored = StoredView(customer);
  RECURRENT_ASSIGN_OR_RETURN(
      Recompute recompute,
      PlanRecompute(customer, timeline,
                    EvaluationInstant(stored, request.now), stored));
  engine::Comparison comparison;
  if (request.settings_before.has_value()) {
    RECURRENT_ASSIGN_OR_RETURN(
        const engine::CustomerTimeline before,
        BuildTimeline(customer, *request.settings_before));
    comparison = engine::Compare(engine::PublishedAt(before, request.now),
                                 engine::PublishedAt(timeline, request.now));
    if (!comparison.appeared.empty() || !comparison.disappeared.empty()) {
      AddMrrImpact(customer, before, timeline, request.now, impact);
    }
    if (changes != nullptr) {
      RECURRENT_RETURN_IF_ERROR(ListChanges(customer, before, timeline,
                                            request.now, comparison, *changes));
    }
  } else {
    // Under unchanged settings the impact compares statuses with the stored
    // ones but not MRR: it reports no MRR change (the MRR rows a reprocess
    // rewrites, e.g. after an upgrade, show in ListMrrMovements).
    comparison = engine::Compare(StoredViewAt(customer, request.now),
                                 engine::PublishedAt(timeline, request.now));
  }
  ++impact.customers_reprocessed;
  impact.auto_churns_reversed += comparison.auto_churns_reversed;
  impact.auto_churns_applied += comparison.auto_churns_applied;
  if (comparison.status_changed()) ++impact.customers_status_changed;
  return recompute;
}

void Add(const SettingsImpact& part, SettingsImpact& total) {
  total.customers_reprocessed += part.customers_reprocessed;
  total.auto_churns_reversed += part.auto_churns_reversed;
  total.auto_churns_applied += part.auto_churns_applied;
  total.customers_status_changed += part.customers_status_changed;
  AddAmounts(part.mrr_change, 1, total.mrr_change);
  AddAmounts(part.churned_mrr, 1, total.churned_mrr);
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
  Pipeline(persistence::SourceScan& scan, const ReprocessRequest& request)
      : scan_(scan), request_(request), max_in_flight_(request.threads + 2) {}

  // Runs the scan and the evaluators, hands evaluated chunks to `consume`
  // in order on the calling thread, and returns the first error.
  template <typename Consume>
  absl::StatusOr<int64_t> Run(Consume consume) {
    // A reprocess is background batch work, and the server serves reads
    // throughout (core/background_priority.h).
    const BackgroundPolicy policy = ChooseBackgroundPolicy();
    std::vector<std::thread> threads;
    threads.emplace_back([this, policy] {
      EnterBackground(policy);
      Scan();
    });
    for (int i = 0; i < request_.threads; ++i) {
      threads.emplace_back([this, policy] {
        EnterBackground(policy);
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
        absl::StatusOr<bool> more = scan_.Next(chunk->customers[size]);
        if (!more.ok()) return Finish(more.status(), scan_.rows_scanned());
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
    Finish(absl::OkStatus(), scan_.rows_scanned());
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
      if (request_.list_changes) {
        chunk->changes.emplace(request_.max_listed_changes);
      }
      SubscriptionChanges* changes =
          chunk->changes.has_value() ? &*chunk->changes : nullptr;
      for (const CustomerState& customer : chunk->customers) {
        absl::StatusOr<Recompute> recompute =
            EvaluateCustomer(customer, request_, chunk->impact, changes);
        if (!recompute.ok()) return Fail(recompute.status());
        if (!recompute->write.empty() || !recompute->changes.empty()) {
          chunk->recomputes.push_back(*std::move(recompute));
        }
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

  persistence::SourceScan& scan_;
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

absl::StatusOr<ReprocessResult> ReprocessSource(persistence::SourceScan& scan,
                                                const ReprocessRequest& request,
                                                const ApplyRecompute& apply) {
  if (request.list_changes && !request.settings_before.has_value()) {
    return absl::InvalidArgumentError(
        "listing changes needs the settings before");
  }
  ReprocessRequest checked = request;
  checked.threads = std::max(1, request.threads);
  checked.chunk_customers = std::max(1, request.chunk_customers);
  Pipeline pipeline(scan, checked);
  ReprocessResult result;
  // Merged chunk by chunk: at most max_listed_changes more per chunk in
  // flight.
  SubscriptionChanges changes(checked.max_listed_changes);
  RECURRENT_ASSIGN_OR_RETURN(
      result.rows_scanned, pipeline.Run([&](Chunk& chunk) -> absl::Status {
        Add(chunk.impact, result.impact);
        if (chunk.changes.has_value()) changes.Merge(*std::move(chunk.changes));
        if (apply == nullptr) return absl::OkStatus();
        for (const Recompute& recompute : chunk.recomputes) {
          RECURRENT_RETURN_IF_ERROR(apply(recompute));
        }
        return absl::OkStatus();
      }));
  DropZeros(result.impact.mrr_change);
  DropZeros(result.impact.churned_mrr);
  if (checked.list_changes) {
    result.changes_not_listed = changes.not_listed();
    result.changes = std::move(changes).Take();
  }
  return result;
}

}  // namespace recurrent::core
