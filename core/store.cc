#include "core/store.h"

#include <sched.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "core/invoices.h"
#include "core/recompute.h"
#include "core/reprocess.h"
#include "engine/customer_reason.h"
#include "engine/customer_timeline.h"
#include "engine/mrr.h"
#include "persistence/page_token.h"

namespace recurrent::core {
namespace {

using persistence::ChangeKind;
using persistence::ChangeRow;
using persistence::CustomerState;
using persistence::DataSourceRow;
using persistence::ReadTransaction;
using persistence::SettingsRow;
using persistence::SubscriptionRow;
using persistence::WriteTransaction;

// How many times a write retries locking a customer whose identity moved
// (a concurrent merge) between reading it and locking it.
constexpr int kLockAttempts = 3;
// Change-log rows deleted per write transaction when pruning.
constexpr int kPruneBatchRows = 10000;
// Change-log rows read per query while ListChanges looks for matching rows.
constexpr int kChangeScanBatchRows = 1000;

// Version current+1 with `decision`'s content, as it will be stored (times
// in microseconds).
SourceSettings NextVersion(const SourceSettings& current,
                           const NewSettings& decision, absl::Time now) {
  SourceSettings next;
  next.data_source_uuid = current.data_source_uuid;
  next.past_due_handling = decision.past_due_handling;
  next.version = current.version + 1;
  next.applied_at = ToMicros(decision.applied_at);
  // Never before the version it follows: a request that waited for the
  // source's lock, or a replica whose clock is behind, may bring an earlier
  // instant.
  next.saved_at = std::max(ToMicros(now), current.saved_at);
  next.saved_by = decision.saved_by;
  return next;
}

ChangeRow SourceChanged(absl::string_view data_source_uuid, absl::Time now) {
  ChangeRow row;
  row.committed_at = now;
  row.kind = ChangeKind::kSourceChanged;
  row.data_source_uuid = std::string(data_source_uuid);
  return row;
}

absl::Status TooManyTags(size_t count, absl::string_view what) {
  return common::WithReason(
      absl::ResourceExhaustedError(absl::StrCat("a customer may carry at most ",
                                                kMaxTagsPerCustomer, " tags; ",
                                                what, " would make ", count)),
      common::reason::kTagLimit,
      {{"limit", absl::StrCat(kMaxTagsPerCustomer)}});
}

// Locks the sources of the customer that `customer_of()` names and returns
// its uuid, once that name is the same under the lock (a concurrent merge
// may move what the caller reads from one customer to another).
template <typename CustomerOf>
absl::StatusOr<std::string> LockCustomerOf(WriteTransaction& txn,
                                           CustomerOf customer_of) {
  RECURRENT_ASSIGN_OR_RETURN(std::string customer, customer_of());
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    RECURRENT_RETURN_IF_ERROR(txn.LockCustomerSources({customer}));
    RECURRENT_ASSIGN_OR_RETURN(std::string again, customer_of());
    if (again == customer) return customer;
    customer = std::move(again);
  }
  return common::WithReason(
      absl::UnavailableError(
          absl::StrCat("customer ", customer, " is being merged; retry")),
      common::reason::kCustomerBeingMerged);
}

// The earliest set value of `a` and `b`.
std::optional<absl::Time> Earliest(const std::optional<absl::Time>& a,
                                   const std::optional<absl::Time>& b) {
  if (!a.has_value()) return b;
  if (!b.has_value()) return a;
  return std::min(*a, *b);
}

// The subscriptions of `state` that have started by the evaluated instant
// (R1), with their evaluations, in the evaluation's order.
// kFailedPrecondition if `state` (loaded after a write that adds rows:
// an import, a merge) holds more invoices or subscriptions than `options`
// allow; the write then rolls back whole.
absl::Status CheckCustomerLimits(const CustomerState& state,
                                 const Store::Options& options,
                                 absl::string_view what) {
  const auto over = [&](size_t count, int limit, absl::string_view rows,
                        absl::string_view flag, absl::string_view reason) {
    return common::WithReason(
        absl::FailedPreconditionError(
            absl::StrCat(what, " would give customer ", state.customer.uuid,
                         " ", count, " ", rows, ", over the limit of ", limit,
                         " per customer (", flag, "); nothing was stored")),
        reason, {{"limit", absl::StrCat(limit)}});
  };
  if (state.facts.invoices.size() >
      static_cast<size_t>(options.max_invoices_per_customer)) {
    return over(state.facts.invoices.size(), options.max_invoices_per_customer,
                "invoices", "--max_invoices_per_customer",
                common::reason::kInvoiceLimit);
  }
  if (state.subscriptions.size() >
      static_cast<size_t>(options.max_subscriptions_per_customer)) {
    return over(state.subscriptions.size(),
                options.max_subscriptions_per_customer, "subscriptions",
                "--max_subscriptions_per_customer",
                common::reason::kSubscriptionLimit);
  }
  return absl::OkStatus();
}

// The subscriptions of `state` whose row key is above `after` and that have
// started in `evaluation`, in creation (row key) order: at most `limit`,
// and whether more follow. With `mrr` (built from the same timeline as
// `evaluation`), each with its MRR at the evaluation's instant.
struct StartedPage {
  std::vector<EvaluatedSubscription> subscriptions;
  bool more = false;
};
StartedPage StartedSubscriptions(
    const CustomerState& state, const engine::CustomerEvaluation& evaluation,
    const engine::MrrTimeline* mrr, persistence::RowKey after = 0,
    size_t limit = std::numeric_limits<size_t>::max()) {
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>,
                      const engine::SubscriptionEvaluation*>
      by_identity;
  by_identity.reserve(evaluation.subscriptions.size());
  for (const engine::SubscriptionEvaluation& sub : evaluation.subscriptions) {
    if (sub.status == engine::SubscriptionStatus::kNotStarted) continue;
    by_identity.emplace(
        std::pair<absl::string_view, absl::string_view>(
            sub.data_source_uuid, sub.subscription_external_id),
        &sub);
  }
  StartedPage page;
  for (const SubscriptionRow& row : state.subscriptions) {  // key order
    if (row.key <= after) continue;
    auto it = by_identity.find(std::pair<absl::string_view, absl::string_view>(
        row.ref.data_source_uuid, row.ref.external_id));
    if (it == by_identity.end()) continue;
    if (page.subscriptions.size() == limit) {
      page.more = true;
      break;
    }
    EvaluatedSubscription& subscription = page.subscriptions.emplace_back(
        EvaluatedSubscription{row.key, row.ref, *it->second, {}});
    if (mrr != nullptr) {
      subscription.mrr =
          mrr->SubscriptionMrrAt(row.ref.data_source_uuid, row.ref.external_id,
                                 evaluation.evaluated_at)
              .value_or(engine::MrrAmount{});
    }
  }
  return page;
}

// The first MRR movement of `mrr` after `t`, if any: when the customer's
// MRR next changes with no new facts.
std::optional<absl::Time> NextMrrChangeAfter(const engine::MrrTimeline& mrr,
                                             absl::Time t) {
  const std::vector<engine::MrrMovement>& movements = mrr.movements();
  auto next = std::upper_bound(
      movements.begin(), movements.end(), t,
      [](absl::Time t, const engine::MrrMovement& movement) {
        return t < movement.occurred_at;
      });
  if (next == movements.end()) return std::nullopt;
  return next->occurred_at;
}

// `state`'s customer evaluated at `as_of` with `timeline` (built from it),
// its MRR then and when that answer next changes.
EvaluatedCustomer Evaluated(CustomerState& state,
                            const engine::CustomerTimeline& timeline,
                            engine::CustomerEvaluation evaluation) {
  EvaluatedCustomer out;
  const absl::Time as_of = evaluation.evaluated_at;
  const engine::MrrTimeline mrr =
      engine::MrrTimeline::Build(state.facts, timeline);
  out.status_reason = CustomerStatusReason(state, timeline, evaluation);
  out.next_change_at = evaluation.next_transition_at;
  if (const std::optional<absl::Time> next = NextMrrChangeAfter(mrr, as_of);
      next.has_value() &&
      (!out.next_change_at.has_value() || *next < *out.next_change_at)) {
    out.next_change_at = next;
  }
  out.evaluation = std::move(evaluation);
  for (const SettingsRow& settings : state.settings) {
    out.sources.push_back(settings.data_source_uuid);
  }
  out.customer = std::move(state.customer);
  out.customer.mrr = mrr.CustomerMrrAt(as_of);
  return out;
}

// Whether `customer` has an external id in a source other than
// `data_source_uuid`: deleting that source leaves it (merged) alive.
bool HasExternalIdElsewhere(const persistence::Customer& customer,
                            absl::string_view data_source_uuid) {
  return std::any_of(customer.external_ids.begin(), customer.external_ids.end(),
                     [&](const persistence::ExternalId& id) {
                       return id.data_source_uuid != data_source_uuid;
                     });
}

// The subscriptions of `state` that no SUBSCRIPTION or TRIAL line item of
// its facts names any more (R1: a subscription exists through them).
std::vector<std::string> Unnamed(const CustomerState& state) {
  std::set<std::pair<std::string, std::string>> named;
  for (const engine::Invoice& invoice : state.facts.invoices) {
    for (const engine::LineItem& item : invoice.line_items) {
      if (item.type == engine::LineItemType::kOneTime) continue;
      named.emplace(invoice.data_source_uuid, item.subscription_external_id);
    }
  }
  std::vector<std::string> unnamed;
  for (const SubscriptionRow& row : state.subscriptions) {
    if (named.count({row.ref.data_source_uuid, row.ref.external_id}) == 0) {
      unnamed.push_back(row.ref.uuid);
    }
  }
  return unnamed;
}

}  // namespace

Store::Store(persistence::Backend* backend, const Options& options,
             ChangeFollower* follower)
    : backend_(backend),
      options_(options),
      group_commit_(backend, follower,
                    GroupCommit::Options{options.max_group_writes}) {}

template <typename Fn>
auto Store::Written(bool shared, Fn&& fn) {
  using Result = std::invoke_result_t<Fn&, Write&>;
  std::optional<Result> result;
  const auto work = [&](Write& write) -> absl::Status {
    result.emplace(fn(write));
    if constexpr (std::is_same_v<Result, absl::Status>) {
      return *result;
    } else {
      return result->status();
    }
  };
  const absl::Status status =
      shared ? group_commit_.Run(work) : group_commit_.RunAlone(work);
  // Not run, or run and then not committed: the error says why.
  if (!status.ok() && (!result.has_value() || result->ok())) {
    return Result(status);
  }
  return *std::move(result);
}

template <typename Fn>
auto Store::Writing(Fn&& fn) {
  return Written(false, std::forward<Fn>(fn));
}

template <typename Fn>
auto Store::WritingShared(Fn&& fn) {
  return Written(true, std::forward<Fn>(fn));
}

template <typename Fn>
auto Store::Reading(Fn&& fn) {
  using Result = std::invoke_result_t<Fn&, ReadTransaction&>;
  absl::StatusOr<std::unique_ptr<ReadTransaction>> txn = backend_->BeginRead();
  if (!txn.ok()) return Result(txn.status());
  return Result(fn(**txn));
}

int Store::ReprocessThreads() const {
  if (options_.reprocess_threads > 0) return options_.reprocess_threads;
  // The cores this process may run on (taskset, cgroups' cpusets), not the
  // machine's: more evaluating threads than cores only take turns.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
    return std::max(1, CPU_COUNT(&cpus));
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// ---- Data sources and settings ----------------------------------------------

absl::StatusOr<DataSource> Store::CreateDataSource(absl::string_view name,
                                                   absl::string_view system,
                                                   absl::Time now) {
  // As it will be stored and read back: every time the API shows has one
  // precision (microseconds).
  now = ToMicros(now);
  return WritingShared([&](Write& write) -> absl::StatusOr<DataSource> {
    DataSource source;
    source.uuid = common::NewId(common::kDataSourceIdPrefix);
    source.name = std::string(name);
    source.system = std::string(system);
    source.created_at = now;
    source.settings.data_source_uuid = source.uuid;
    source.settings.version = 1;
    source.settings.applied_at = now;
    source.settings.saved_at = now;
    RECURRENT_RETURN_IF_ERROR(write.txn().LockSources({source.uuid}));
    DataSourceRow row;
    row.uuid = source.uuid;
    row.name = source.name;
    row.system = source.system;
    row.created_at = now;
    row.settings = ToRow(source.settings);
    RECURRENT_RETURN_IF_ERROR(write.txn().InsertDataSource(row));
    return source;
  });
}

absl::StatusOr<DataSource> Store::GetDataSource(absl::string_view uuid) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<DataSource> {
    RECURRENT_ASSIGN_OR_RETURN(const DataSourceRow row,
                               txn.GetDataSource(uuid));
    return FromRow(row);
  });
}

absl::StatusOr<Page<DataSource>> Store::ListDataSources(
    const PageRequest& page) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<Page<DataSource>> {
    RECURRENT_ASSIGN_OR_RETURN(const Page<DataSourceRow> rows,
                               txn.ListDataSources(page));
    Page<DataSource> result;
    result.next_page_token = rows.next_page_token;
    for (const DataSourceRow& row : rows.items) {
      RECURRENT_ASSIGN_OR_RETURN(DataSource source, FromRow(row));
      result.items.push_back(std::move(source));
    }
    return result;
  });
}

absl::Status Store::DeleteDataSource(absl::string_view uuid, absl::Time now) {
  return Writing([&](Write& write) -> absl::Status {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(txn.LockSourceWithItsCustomers(uuid));
    // The customers with subscriptions in the source, as stored before:
    // their events in it go, and observers must see them retracted. Those
    // of this source alone go whole: their retractions are appended as the
    // scan reads them, so memory holds one of their states at a time, not
    // the source's (a backend may still hold the appended rows until the
    // commit: PostgreSQL does). Those merged with another source's
    // customers stay, to be recomputed after the delete: only their states
    // are kept.
    std::vector<CustomerState> merged;
    {
      RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::SourceScan> scan,
                                 txn.ScanSource(uuid));
      while (true) {
        CustomerState state;
        RECURRENT_ASSIGN_OR_RETURN(const bool more, scan->Next(state));
        if (!more) break;
        state.facts = {};  // not needed by either path
        if (HasExternalIdElsewhere(state.customer, uuid)) {
          merged.push_back(std::move(state));
          continue;
        }
        RECURRENT_ASSIGN_OR_RETURN(std::vector<ChangeRow> rows,
                                   RetractAll(state, StoredView(state), now));
        RECURRENT_RETURN_IF_ERROR(write.Append(std::move(rows)));
      }
    }
    RECURRENT_ASSIGN_OR_RETURN(const std::vector<std::string> survivors,
                               txn.DeleteDataSource(uuid));
    // The merged customers are exactly the survivors with subscriptions in
    // the source (a customer's subscriptions are in sources it has an
    // external id in); if one were gone, its recompute would fail the
    // delete rather than publish a wrong log.
    absl::flat_hash_set<std::string> recomputed;
    for (const CustomerState& state : merged) {
      const engine::Published view = StoredView(state);
      RECURRENT_RETURN_IF_ERROR(write
                                    .RecomputeCustomer(state.customer.uuid, now,
                                                       &view,
                                                       state.subscriptions)
                                    .status());
      recomputed.insert(state.customer.uuid);
    }
    for (const std::string& customer : survivors) {
      if (recomputed.contains(customer)) continue;
      RECURRENT_RETURN_IF_ERROR(
          write.RecomputeCustomer(customer, now).status());
    }
    return write.Append(SourceChanged(uuid, now));
  });
}

absl::StatusOr<SourceSettings> Store::GetSettings(absl::string_view uuid) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<SourceSettings> {
    RECURRENT_ASSIGN_OR_RETURN(const DataSourceRow row,
                               txn.GetDataSource(uuid));
    return FromRow(row.settings);
  });
}

ReprocessRequest Store::MakeReprocessRequest(absl::string_view uuid,
                                             engine::SettingsMap settings,
                                             const SourceSettings* next,
                                             bool list_changes,
                                             absl::Time now) const {
  ReprocessRequest request;
  request.settings = std::move(settings);
  if (next != nullptr) {
    request.settings_before = request.settings;
    request.settings[std::string(uuid)] = ToEngine(*next);
    request.list_changes = list_changes;
  }
  request.max_listed_changes = options_.max_listed_settings_changes;
  request.now = now;
  request.threads = ReprocessThreads();
  request.chunk_customers = options_.reprocess_chunk_customers;
  request.promote_after = options_.reprocess_promote_after;
  return request;
}

absl::StatusOr<ReprocessResult> Store::Reprocess(Write& write,
                                                 absl::string_view uuid,
                                                 const SourceSettings* next,
                                                 bool list_changes,
                                                 absl::Time now) {
  WriteTransaction& txn = write.txn();
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<SettingsRow> rows,
                             txn.CurrentSettings());
  RECURRENT_ASSIGN_OR_RETURN(engine::SettingsMap settings, ToSettingsMap(rows));
  const ReprocessRequest request =
      MakeReprocessRequest(uuid, std::move(settings), next, list_changes, now);
  // Before this transaction writes anything: the scan then reads exactly
  // the state its writes replace (backend contract, point 5).
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::SourceScan> scan,
                             txn.ScanSource(uuid));
  return ReprocessSource(*scan, request, [&write](const Recompute& recompute) {
    return write.Apply(recompute);
  });
}

absl::StatusOr<Store::SettingsUpdate> Store::PreviewSettings(
    absl::string_view uuid, const SettingsDecision& decide, bool list_changes,
    absl::Time now) {
  // A snapshot of its own: no write lock, and short reads are not kept
  // waiting for a connection.
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<ReadTransaction> txn,
      backend_->BeginRead(persistence::Backend::ReadKind::kScan));
  SettingsUpdate update;
  RECURRENT_ASSIGN_OR_RETURN(const DataSourceRow row, txn->GetDataSource(uuid));
  RECURRENT_ASSIGN_OR_RETURN(update.settings, FromRow(row.settings));
  RECURRENT_ASSIGN_OR_RETURN(const std::optional<NewSettings> decision,
                             decide(update.settings));
  if (!decision.has_value()) return update;
  // The version as it would be saved (not saved).
  update.settings = NextVersion(update.settings, *decision, now);
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<SettingsRow> rows,
                             txn->CurrentSettings());
  RECURRENT_ASSIGN_OR_RETURN(engine::SettingsMap settings, ToSettingsMap(rows));
  const ReprocessRequest request = MakeReprocessRequest(
      uuid, std::move(settings), &update.settings, list_changes, now);
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::SourceScan> scan,
                             txn->ScanSource(uuid));
  RECURRENT_ASSIGN_OR_RETURN(ReprocessResult result,
                             ReprocessSource(*scan, request, nullptr));
  update.impact = result.impact;
  update.settings.impact = result.impact;
  update.changes = std::move(result.changes);
  update.changes_not_listed = result.changes_not_listed;
  return update;
}

absl::StatusOr<Store::SettingsUpdate> Store::UpdateSettings(
    absl::string_view uuid, const SettingsDecision& decide, bool dry_run,
    absl::Time now, bool list_changes) {
  if (dry_run) return PreviewSettings(uuid, decide, list_changes, now);
  return Writing([&](Write& write) -> absl::StatusOr<SettingsUpdate> {
    RECURRENT_RETURN_IF_ERROR(write.txn().LockSourceWithItsCustomers(uuid));
    SettingsUpdate update;
    RECURRENT_ASSIGN_OR_RETURN(const DataSourceRow row,
                               write.txn().GetDataSource(uuid));
    RECURRENT_ASSIGN_OR_RETURN(update.settings, FromRow(row.settings));
    RECURRENT_ASSIGN_OR_RETURN(const std::optional<NewSettings> decision,
                               decide(update.settings));
    if (!decision.has_value()) return update;
    SourceSettings next = NextVersion(update.settings, *decision, now);
    RECURRENT_ASSIGN_OR_RETURN(
        ReprocessResult result,
        Reprocess(write, uuid, &next, list_changes, now));
    update.impact = result.impact;
    next.impact = update.impact;
    RECURRENT_RETURN_IF_ERROR(write.txn().InsertSettingsVersion(ToRow(next)));
    RECURRENT_RETURN_IF_ERROR(write.Append(SourceChanged(uuid, now)));
    update.settings = std::move(next);
    update.applied = true;
    update.changes = std::move(result.changes);
    update.changes_not_listed = result.changes_not_listed;
    return update;
  });
}

absl::StatusOr<SettingsImpact> Store::ReprocessDataSource(
    absl::string_view uuid, absl::Time now) {
  return Writing([&](Write& write) -> absl::StatusOr<SettingsImpact> {
    RECURRENT_RETURN_IF_ERROR(write.txn().LockSourceWithItsCustomers(uuid));
    RECURRENT_RETURN_IF_ERROR(write.txn().GetDataSource(uuid).status());
    RECURRENT_ASSIGN_OR_RETURN(
        const ReprocessResult result,
        Reprocess(write, uuid, nullptr, /*list_changes=*/false, now));
    return result.impact;
  });
}

absl::StatusOr<std::vector<SourceSettings>> Store::ListSettingsHistory(
    absl::string_view uuid) {
  return Reading(
      [&](ReadTransaction& txn) -> absl::StatusOr<std::vector<SourceSettings>> {
        RECURRENT_ASSIGN_OR_RETURN(const std::vector<SettingsRow> rows,
                                   txn.ListSettingsVersions(uuid));
        std::vector<SourceSettings> history;
        for (const SettingsRow& row : rows) {
          RECURRENT_ASSIGN_OR_RETURN(SourceSettings settings, FromRow(row));
          history.push_back(std::move(settings));
        }
        return history;
      });
}

// ---- Customers --------------------------------------------------------------

absl::StatusOr<Customer> Store::CreateCustomer(const Customer& customer,
                                               absl::Time now) {
  return WritingShared([&](Write& write) -> absl::StatusOr<Customer> {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(txn.LockSources({customer.data_source_uuid}));
    Customer row;
    static_cast<persistence::CustomerFields&>(row) = customer;
    row.uuid = common::NewId(common::kCustomerIdPrefix);
    row.data_source_uuid = customer.data_source_uuid;
    row.external_id = customer.external_id;
    row.external_ids = {{customer.data_source_uuid, customer.external_id}};
    row.status = persistence::CustomerStatus::kLead;
    row.status_reason =
        engine::CustomerStatusReason(persistence::CustomerStatus::kLead, {});
    row.created_at = now;
    row.updated_at = now;
    RECURRENT_RETURN_IF_ERROR(txn.InsertCustomer(row));
    // Writes its derived MRR rows (a lead from the beginning of time), so
    // that the MRR metrics count it; nothing else differs.
    RECURRENT_RETURN_IF_ERROR(write.RecomputeCustomer(row.uuid, now).status());
    RECURRENT_RETURN_IF_ERROR(write.Append(CustomerChanged(row, now)));
    return txn.GetCustomer(row.uuid);
  });
}

absl::StatusOr<Customer> Store::GetCustomer(absl::string_view uuid) {
  return Reading([&](ReadTransaction& txn) { return txn.GetCustomer(uuid); });
}

absl::StatusOr<Customer> Store::EditCustomer(
    absl::string_view uuid, absl::Time now,
    const std::function<absl::Status(Customer&)>& edit) {
  return WritingShared([&](Write& write) -> absl::StatusOr<Customer> {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(txn.LockCustomerSources({std::string(uuid)}));
    RECURRENT_ASSIGN_OR_RETURN(Customer customer, txn.GetCustomer(uuid));
    const Customer before = customer;
    RECURRENT_RETURN_IF_ERROR(edit(customer));
    std::sort(customer.tags.begin(), customer.tags.end());
    customer.tags.erase(std::unique(customer.tags.begin(), customer.tags.end()),
                        customer.tags.end());
    if (customer.tags.size() > static_cast<size_t>(kMaxTagsPerCustomer)) {
      return TooManyTags(customer.tags.size(), "this call");
    }
    // An edit that changes nothing (tags already there, the same values)
    // writes nothing: `updated_at` and the change log keep to real changes.
    if (static_cast<const persistence::CustomerFields&>(customer) !=
            static_cast<const persistence::CustomerFields&>(before) ||
        customer.tags != before.tags) {
      RECURRENT_RETURN_IF_ERROR(
          txn.UpdateCustomer(uuid, customer, customer.tags, now));
      RECURRENT_RETURN_IF_ERROR(write.Append(CustomerChanged(customer, now)));
    }
    // As stored, with its MRR now beside the stored status. The edit does
    // not depend on the facts: if the engine rejects them, the answer has
    // no MRR.
    RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                               txn.LoadCustomerState(uuid, false));
    if (absl::StatusOr<engine::CustomerTimeline> timeline =
            BuildTimeline(state);
        timeline.ok()) {
      state.customer.mrr = engine::MrrTimeline::Build(state.facts, *timeline)
                               .CustomerMrrAt(now);
    }
    return std::move(state.customer);
  });
}

absl::StatusOr<Customer> Store::UpdateCustomer(absl::string_view uuid,
                                               const CustomerMutation& mutate,
                                               absl::Time now) {
  return EditCustomer(uuid, now, [&](Customer& customer) {
    // Only the writable fields change.
    Customer mutated = customer;
    RECURRENT_RETURN_IF_ERROR(mutate(mutated));
    static_cast<persistence::CustomerFields&>(customer) = mutated;
    return absl::OkStatus();
  });
}

absl::Status Store::DeleteCustomer(absl::string_view uuid, absl::Time now) {
  return WritingShared([&](Write& write) -> absl::Status {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(txn.LockCustomerSources({std::string(uuid)}));
    RECURRENT_ASSIGN_OR_RETURN(const CustomerState state,
                               txn.LoadCustomerState(uuid, true));
    RECURRENT_RETURN_IF_ERROR(txn.DeleteCustomer(uuid));
    RECURRENT_ASSIGN_OR_RETURN(std::vector<ChangeRow> rows,
                               RetractAll(state, StoredView(state), now));
    rows.push_back(CustomerChanged(state.customer, now));
    return write.Append(std::move(rows));
  });
}

absl::StatusOr<Page<Customer>> Store::ListCustomers(
    const CustomerFilter& filter, const PageRequest& page) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<Page<Customer>> {
    if (!filter.data_source_uuid.empty()) {
      // An unknown source is an error, not an empty list.
      RECURRENT_RETURN_IF_ERROR(
          txn.GetDataSource(filter.data_source_uuid).status());
    }
    return txn.ListCustomers(filter, page);
  });
}

absl::StatusOr<Page<Customer>> Store::ListCustomersWithMrr(
    const CustomerFilter& filter, const PageRequest& page, absl::Time now) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<Page<Customer>> {
    if (!filter.data_source_uuid.empty()) {
      RECURRENT_RETURN_IF_ERROR(
          txn.GetDataSource(filter.data_source_uuid).status());
    }
    RECURRENT_ASSIGN_OR_RETURN(Page<Customer> customers,
                               txn.ListCustomers(filter, page));
    std::vector<std::string> uuids;
    uuids.reserve(customers.items.size());
    for (const Customer& customer : customers.items) {
      uuids.push_back(customer.uuid);
    }
    RECURRENT_ASSIGN_OR_RETURN(std::vector<std::vector<engine::MrrAmount>> mrr,
                               txn.CustomersMrrAt(uuids, now));
    for (size_t i = 0; i < customers.items.size(); ++i) {
      customers.items[i].mrr = std::move(mrr[i]);
    }
    return customers;
  });
}

absl::StatusOr<Page<EvaluatedCustomer>> Store::ListCustomersAt(
    const CustomerFilter& filter, absl::Time as_of, const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(persistence::ValidatePageSize(page));
  return Reading([&](ReadTransaction& txn)
                     -> absl::StatusOr<Page<EvaluatedCustomer>> {
    if (!filter.data_source_uuid.empty()) {
      RECURRENT_RETURN_IF_ERROR(
          txn.GetDataSource(filter.data_source_uuid).status());
    }
    // The stored status says nothing of the status at as_of: walk the
    // customers matching the other filters and evaluate each. Each backend
    // page asks for as many customers as the page still lacks, so the page
    // fills up exactly at the end of a backend page, whose token then
    // continues the listing.
    CustomerFilter others = filter;
    others.status.reset();
    // The backend does not see the status filter; its tokens must.
    if (filter.status.has_value()) {
      others.token_scope = absl::StrCat(
          "status at as_of: ", engine::CustomerStatusName(*filter.status));
    }
    Page<EvaluatedCustomer> out;
    std::string token = page.page_token;
    int evaluated = 0;
    while (true) {
      const int want =
          std::min(page.page_size - static_cast<int>(out.items.size()),
                   kMaxCustomersEvaluatedPerPage - evaluated);
      if (want <= 0) break;
      RECURRENT_ASSIGN_OR_RETURN(
          Page<Customer> customers,
          txn.ListCustomers(others, PageRequest{want, token}));
      for (const Customer& customer : customers.items) {
        RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                                   txn.LoadCustomerState(customer.uuid, false));
        RECURRENT_ASSIGN_OR_RETURN(const engine::CustomerTimeline timeline,
                                   BuildTimeline(state));
        engine::CustomerEvaluation evaluation = timeline.EvaluateAt(as_of);
        ++evaluated;
        if (filter.status.has_value() &&
            evaluation.status != *filter.status) {
          continue;
        }
        out.items.push_back(
            Evaluated(state, timeline, std::move(evaluation)));
      }
      token = std::move(customers.next_page_token);
      if (token.empty()) break;
    }
    out.next_page_token = std::move(token);
    return out;
  });
}

absl::StatusOr<Customer> Store::MergeCustomers(absl::string_view from_uuid,
                                               absl::string_view into_uuid,
                                               absl::Time now) {
  return WritingShared([&](Write& write) -> absl::StatusOr<Customer> {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(txn.LockCustomerSources(
        {std::string(from_uuid), std::string(into_uuid)}));
    RECURRENT_ASSIGN_OR_RETURN(const CustomerState from,
                               txn.LoadCustomerState(from_uuid, true));
    RECURRENT_ASSIGN_OR_RETURN(const CustomerState into,
                               txn.LoadCustomerState(into_uuid, true));
    if (from.key == into.key) {
      return common::WithReason(
          absl::InvalidArgumentError(absl::StrCat("cannot merge customer ",
                                                  from_uuid, " into itself")),
          common::reason::kInvalidRequest);
    }
    std::set<std::string> tags(into.customer.tags.begin(),
                               into.customer.tags.end());
    tags.insert(from.customer.tags.begin(), from.customer.tags.end());
    if (tags.size() > static_cast<size_t>(kMaxTagsPerCustomer)) {
      return TooManyTags(tags.size(), "this merge");
    }
    persistence::CustomerFields fields = into.customer;
    fields.lead_created_at =
        Earliest(into.customer.lead_created_at, from.customer.lead_created_at);
    fields.free_trial_started_at =
        Earliest(into.customer.free_trial_started_at,
                 from.customer.free_trial_started_at);
    RECURRENT_RETURN_IF_ERROR(txn.MoveCustomerRows(from_uuid, into_uuid));
    RECURRENT_RETURN_IF_ERROR(txn.UpdateCustomer(
        into_uuid, fields, std::vector<std::string>(tags.begin(), tags.end()),
        now));
    // `from` disappears: what it published is retracted, and `into`
    // publishes what it now has.
    RECURRENT_ASSIGN_OR_RETURN(std::vector<ChangeRow> rows,
                               RetractAll(from, StoredView(from), now));
    rows.push_back(CustomerChanged(from.customer, now));
    rows.push_back(CustomerChanged(into.customer, now));
    RECURRENT_RETURN_IF_ERROR(write.Append(std::move(rows)));
    const engine::Published into_view = StoredView(into);
    RECURRENT_ASSIGN_OR_RETURN(CustomerState merged,
                               txn.LoadCustomerState(into_uuid, true));
    RECURRENT_RETURN_IF_ERROR(
        CheckCustomerLimits(merged, options_, "this merge"));
    RECURRENT_ASSIGN_OR_RETURN(
        const Write::Recomputed recomputed,
        write.RecomputeLoaded(std::move(merged), now, &into_view));
    RECURRENT_ASSIGN_OR_RETURN(Customer result, txn.GetCustomer(into_uuid));
    result.mrr =
        engine::MrrTimeline::Build(recomputed.state.facts, *recomputed.timeline)
            .CustomerMrrAt(recomputed.evaluation.evaluated_at);
    return result;
  });
}

absl::StatusOr<Customer> Store::AddCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return EditCustomer(uuid, now, [&](Customer& customer) {
    customer.tags.insert(customer.tags.end(), tags.begin(), tags.end());
    return absl::OkStatus();
  });
}

absl::StatusOr<Customer> Store::RemoveCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return EditCustomer(uuid, now, [&](Customer& customer) {
    const std::set<std::string> removed(tags.begin(), tags.end());
    customer.tags.erase(
        std::remove_if(
            customer.tags.begin(), customer.tags.end(),
            [&](const std::string& tag) { return removed.count(tag) > 0; }),
        customer.tags.end());
    return absl::OkStatus();
  });
}

absl::StatusOr<EvaluatedCustomer> Store::EvaluateCustomer(
    absl::string_view uuid, absl::Time as_of) {
  RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                             Reading([&](ReadTransaction& txn) {
                               return txn.LoadCustomerState(uuid, false);
                             }));
  RECURRENT_ASSIGN_OR_RETURN(const engine::CustomerTimeline timeline,
                             BuildTimeline(state));
  return Evaluated(state, timeline, timeline.EvaluateAt(as_of));
}

absl::StatusOr<Page<EvaluatedSubscription>> Store::ListSubscriptions(
    absl::string_view customer_uuid, absl::Time as_of,
    const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(persistence::ValidatePageSize(page));
  // as_of is not part of the query's identity: without one, each page is
  // evaluated at its own "now".
  const uint64_t fingerprint =
      persistence::QueryFingerprint("subscriptions", {customer_uuid});
  persistence::RowKey after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(
        after, persistence::DecodePageToken(page.page_token, fingerprint));
  }
  RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                             Reading([&](ReadTransaction& txn) {
                               return txn.LoadCustomerState(customer_uuid,
                                                            false);
                             }));
  RECURRENT_ASSIGN_OR_RETURN(const engine::CustomerTimeline timeline,
                             BuildTimeline(state));
  const engine::MrrTimeline mrr =
      engine::MrrTimeline::Build(state.facts, timeline);
  StartedPage started = StartedSubscriptions(
      state, timeline.EvaluateAt(as_of), &mrr, after, page.page_size);
  Page<EvaluatedSubscription> result;
  result.items = std::move(started.subscriptions);
  if (started.more) {
    result.next_page_token =
        persistence::EncodePageToken(result.items.back().key, fingerprint);
  }
  return result;
}

// ---- Invoices ---------------------------------------------------------------

absl::StatusOr<std::vector<Invoice>> Store::ImportInvoices(
    absl::string_view customer_uuid, const std::vector<Invoice>& invoices,
    absl::Time now) {
  return WritingShared([&](Write& write) -> absl::StatusOr<std::vector<Invoice>> {
    WriteTransaction& txn = write.txn();
    RECURRENT_RETURN_IF_ERROR(
        txn.LockCustomerSources({std::string(customer_uuid)}));
    RECURRENT_ASSIGN_OR_RETURN(const Customer customer,
                               txn.GetCustomer(customer_uuid));
    const std::vector<std::string> sources = CustomerSources(customer);
    std::vector<Invoice> stored;  // the answer, in request order
    std::vector<Invoice> inserted;
    std::vector<SubscriptionRef> new_subscriptions;
    // Subscriptions (source, external id) of the customer checked so far.
    std::set<std::pair<std::string, std::string>> ours;
    // The first field of this request with each (kind, source, external
    // id), and whether its invoice named the source. The service refuses
    // repeats among the ids as given; a repeat it cannot see is one whose
    // invoice left data_source_uuid empty (the customer's only source)
    // beside one that names that source: refused here the same way. (Other
    // repeats keep their meaning: an identical re-send, or ALREADY_EXISTS.)
    struct First {
      std::string field;
      bool named = false;
    };
    std::map<std::tuple<std::string, std::string, std::string>, First> first_of;
    const auto once = [&](absl::string_view kind, const std::string& source,
                          bool named, const std::string& id,
                          std::string field) -> absl::Status {
      if (id.empty()) return absl::OkStatus();
      auto [it, first] = first_of.try_emplace(
          std::make_tuple(std::string(kind), source, id), First{field, named});
      if (first || it->second.named == named) return absl::OkStatus();
      return common::InvalidField(
          field, absl::StrCat("duplicates the ", kind, " at ", it->second.field,
                              " in this request"));
    };
    for (size_t i = 0; i < invoices.size(); ++i) {
      RECURRENT_ASSIGN_OR_RETURN(const std::string source,
                                 ResolveSource(i, invoices[i].data_source_uuid,
                                               sources, customer_uuid));
      const std::string path = absl::StrCat("invoices[", i, "]");
      const bool named = !invoices[i].data_source_uuid.empty();
      RECURRENT_RETURN_IF_ERROR(once("invoice", source, named,
                                     invoices[i].external_id,
                                     path + ".external_id"));
      for (size_t j = 0; j < invoices[i].line_items.size(); ++j) {
        RECURRENT_RETURN_IF_ERROR(once(
            "line item", source, named, invoices[i].line_items[j].external_id,
            absl::StrCat(path, ".line_items[", j, "].external_id")));
      }
      for (size_t k = 0; k < invoices[i].transactions.size(); ++k) {
        RECURRENT_RETURN_IF_ERROR(
            once("transaction", source, named,
                 invoices[i].transactions[k].external_id,
                 absl::StrCat(path, ".transactions[", k, "].external_id")));
      }
      Invoice wanted = invoices[i];
      wanted.customer_uuid = std::string(customer_uuid);
      wanted.data_source_uuid = source;
      Normalize(wanted);
      // Stored before, or earlier in this batch.
      std::optional<Invoice> existing;
      for (const Invoice& invoice : inserted) {
        if (invoice.data_source_uuid == source &&
            invoice.external_id == wanted.external_id) {
          existing = invoice;
        }
      }
      if (!existing.has_value()) {
        RECURRENT_ASSIGN_OR_RETURN(existing,
                                   txn.FindInvoice(source, wanted.external_id));
      }
      if (existing.has_value()) {
        if (!SameInvoice(*existing, wanted)) {
          return common::ResourceAlreadyExists(
              absl::AlreadyExistsError(
                  absl::StrCat("invoice '", wanted.external_id,
                               "' already exists in data source ", source,
                               " with different content")),
              "invoice", wanted.external_id);
        }
        stored.push_back(*std::move(existing));  // an identical re-send
        continue;
      }
      // R1: the first SUBSCRIPTION or TRIAL line item naming a subscription
      // creates it.
      for (const persistence::LineItem& item : wanted.line_items) {
        if (item.type == engine::LineItemType::kOneTime) continue;
        if (!ours.emplace(source, item.subscription_external_id).second) {
          continue;
        }
        RECURRENT_ASSIGN_OR_RETURN(
            const std::optional<SubscriptionRef> subscription,
            txn.FindSubscription(source, item.subscription_external_id));
        if (!subscription.has_value()) {
          new_subscriptions.push_back(
              SubscriptionRef{common::NewId(common::kSubscriptionIdPrefix),
                              std::string(customer_uuid), source,
                              item.subscription_external_id});
          // Refused early when this batch alone is over the limit (the
          // exact check, with the stored ones, follows the insert).
          if (new_subscriptions.size() >
              static_cast<size_t>(options_.max_subscriptions_per_customer)) {
            return common::WithReason(
                absl::FailedPreconditionError(absl::StrCat(
                    "this import would give customer ", customer_uuid,
                    " more than ", options_.max_subscriptions_per_customer,
                    " subscriptions, the limit per customer "
                    "(--max_subscriptions_per_customer); nothing was stored")),
                common::reason::kSubscriptionLimit,
                {{"limit",
                  absl::StrCat(options_.max_subscriptions_per_customer)}});
          }
        } else if (subscription->customer_uuid != customer_uuid) {
          return common::WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "subscription '", item.subscription_external_id,
                  "' of data source ", source, " belongs to another customer (",
                  subscription->customer_uuid, ")")),
              common::reason::kSubscriptionOfOtherCustomer,
              {{"resource_id", item.subscription_external_id}});
        }
      }
      wanted.uuid = common::NewId(common::kInvoiceIdPrefix);
      for (persistence::LineItem& item : wanted.line_items) {
        item.uuid = common::NewId(common::kLineItemIdPrefix);
      }
      for (Transaction& transaction : wanted.transactions) {
        transaction.uuid = common::NewId(common::kTransactionIdPrefix);
      }
      inserted.push_back(wanted);
      stored.push_back(std::move(wanted));
    }
    if (!new_subscriptions.empty()) {
      RECURRENT_RETURN_IF_ERROR(txn.InsertSubscriptions(new_subscriptions));
    }
    if (!inserted.empty()) {
      RECURRENT_RETURN_IF_ERROR(txn.InsertInvoices(customer_uuid, inserted));
      RECURRENT_RETURN_IF_ERROR(write.Append(CustomerChanged(customer, now)));
    }
    RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                               txn.LoadCustomerState(customer_uuid, true));
    if (!inserted.empty()) {
      RECURRENT_RETURN_IF_ERROR(
          CheckCustomerLimits(state, options_, "this import"));
    }
    RECURRENT_RETURN_IF_ERROR(
        write.RecomputeLoaded(std::move(state), now).status());
    return stored;
  });
}

absl::StatusOr<Invoice> Store::GetInvoice(absl::string_view uuid) {
  return Reading([&](ReadTransaction& txn) { return txn.GetInvoice(uuid); });
}

absl::StatusOr<Page<Invoice>> Store::ListInvoices(
    const InvoiceFilter& query, const PageRequest& page,
    std::optional<OpenAt> open_at) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<Page<Invoice>> {
    if (!open_at.has_value()) return txn.ListInvoices(query, page);
    // The backend does not see the open filter; its tokens must.
    InvoiceFilter filter = query;
    filter.token_scope = open_at->open ? "open" : "not open";
    RECURRENT_RETURN_IF_ERROR(persistence::ValidatePageSize(page));
    // The stored invoices are read in chunks of the unfiltered listing, all
    // in this one read transaction (one snapshot); the backend's tokens
    // name positions in it, so the page ends exactly after the last
    // invoice it shows or scanned.
    PageRequest chunk_request{
        std::max(page.page_size,
                 std::min(persistence::kDefaultPageSize,
                          options_.max_invoices_scanned_per_page)),
        page.page_token};
    Page<Invoice> result;
    int scanned = 0;
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(Page<Invoice> chunk,
                                 txn.ListInvoices(filter, chunk_request));
      for (size_t i = 0; i < chunk.items.size(); ++i) {
        if (AmountsAt(chunk.items[i], open_at->as_of).open != open_at->open) {
          continue;
        }
        result.items.push_back(std::move(chunk.items[i]));
        if (static_cast<int>(result.items.size()) < page.page_size) continue;
        // Full: the next page starts after chunk item i, which is where the
        // same chunk cut after i + 1 invoices ends.
        if (i + 1 == chunk.items.size()) {
          result.next_page_token = std::move(chunk.next_page_token);
        } else {
          RECURRENT_ASSIGN_OR_RETURN(
              const Page<Invoice> head,
              txn.ListInvoices(filter, PageRequest{static_cast<int>(i + 1),
                                                   chunk_request.page_token}));
          result.next_page_token = head.next_page_token;
        }
        return result;
      }
      scanned += static_cast<int>(chunk.items.size());
      if (chunk.next_page_token.empty() ||
          scanned >= options_.max_invoices_scanned_per_page) {
        result.next_page_token = std::move(chunk.next_page_token);
        return result;
      }
      chunk_request.page_token = std::move(chunk.next_page_token);
    }
  });
}

absl::Status Store::DeleteInvoice(absl::string_view uuid, absl::Time now) {
  return WritingShared([&](Write& write) -> absl::Status {
    WriteTransaction& txn = write.txn();
    RECURRENT_ASSIGN_OR_RETURN(
        const std::string customer,
        LockCustomerOf(txn, [&]() -> absl::StatusOr<std::string> {
          RECURRENT_ASSIGN_OR_RETURN(Invoice invoice, txn.GetInvoice(uuid));
          return std::move(invoice.customer_uuid);
        }));
    RECURRENT_ASSIGN_OR_RETURN(const CustomerState before,
                               txn.LoadCustomerState(customer, true));
    RECURRENT_RETURN_IF_ERROR(txn.DeleteInvoice(uuid));
    {
      RECURRENT_ASSIGN_OR_RETURN(const CustomerState after,
                                 txn.LoadCustomerState(customer, false));
      const std::vector<std::string> unnamed = Unnamed(after);
      if (!unnamed.empty()) {
        RECURRENT_RETURN_IF_ERROR(txn.DeleteSubscriptions(unnamed));
      }
    }
    RECURRENT_RETURN_IF_ERROR(
        write.Append(CustomerChanged(before.customer, now)));
    const engine::Published view = StoredView(before);
    return write.RecomputeCustomer(customer, now, &view, before.subscriptions)
        .status();
  });
}

absl::StatusOr<Transaction> Store::AddTransaction(
    absl::string_view invoice_uuid, const Transaction& transaction,
    absl::Time now) {
  return WritingShared([&](Write& write) -> absl::StatusOr<Transaction> {
    WriteTransaction& txn = write.txn();
    Invoice invoice;
    RECURRENT_ASSIGN_OR_RETURN(
        const std::string customer,
        LockCustomerOf(txn, [&]() -> absl::StatusOr<std::string> {
          RECURRENT_ASSIGN_OR_RETURN(invoice, txn.GetInvoice(invoice_uuid));
          return invoice.customer_uuid;
        }));
    Transaction wanted = transaction;
    Normalize(wanted);
    RECURRENT_ASSIGN_OR_RETURN(
        const std::optional<ReadTransaction::StoredTransaction> existing,
        txn.FindTransaction(invoice.data_source_uuid, wanted.external_id));
    if (existing.has_value()) {
      if (existing->invoice_uuid != invoice_uuid ||
          !SameTransaction(existing->transaction, wanted)) {
        return common::ResourceAlreadyExists(
            absl::AlreadyExistsError(absl::StrCat(
                "transaction '", wanted.external_id,
                "' already exists in data source ", invoice.data_source_uuid)),
            "transaction", wanted.external_id);
      }
      // An identical re-send.
      RECURRENT_RETURN_IF_ERROR(
          write.RecomputeCustomer(customer, now).status());
      return existing->transaction;
    }
    wanted.uuid = common::NewId(common::kTransactionIdPrefix);
    RECURRENT_RETURN_IF_ERROR(txn.InsertTransaction(invoice_uuid, wanted));
    RECURRENT_ASSIGN_OR_RETURN(const Write::Recomputed recomputed,
                               write.RecomputeCustomer(customer, now));
    RECURRENT_RETURN_IF_ERROR(
        write.Append(CustomerChanged(recomputed.state.customer, now)));
    return wanted;
  });
}

// ---- Subscriptions and events -------------------------------------------

absl::StatusOr<SubscriptionRef> Store::GetSubscription(absl::string_view uuid) {
  return Reading(
      [&](ReadTransaction& txn) { return txn.GetSubscription(uuid); });
}

absl::StatusOr<EvaluatedSubscription> Store::CancelSubscription(
    absl::string_view uuid, absl::Time cancelled_at, absl::Time now) {
  return WritingShared([&](Write& write) -> absl::StatusOr<EvaluatedSubscription> {
    WriteTransaction& txn = write.txn();
    RECURRENT_ASSIGN_OR_RETURN(
        const std::string customer,
        LockCustomerOf(txn, [&]() -> absl::StatusOr<std::string> {
          RECURRENT_ASSIGN_OR_RETURN(SubscriptionRef ref,
                                     txn.GetSubscription(uuid));
          return std::move(ref.customer_uuid);
        }));
    {
      // A subscription that has not started does not count (R1), so it
      // cannot be cancelled yet.
      RECURRENT_ASSIGN_OR_RETURN(const CustomerState state,
                                 txn.LoadCustomerState(customer, false));
      RECURRENT_ASSIGN_OR_RETURN(const engine::CustomerTimeline timeline,
                             BuildTimeline(state));
      const std::vector<EvaluatedSubscription> started =
          StartedSubscriptions(state, timeline.EvaluateAt(cancelled_at),
                               nullptr)
              .subscriptions;
      if (std::none_of(started.begin(), started.end(),
                       [&](const EvaluatedSubscription& s) {
                         return s.ref.uuid == uuid;
                       })) {
        return common::WithReason(
            absl::FailedPreconditionError(absl::StrCat(
                "subscription ", uuid, " has not started by cancelled_at")),
            common::reason::kSubscriptionNotStarted,
            {{"resource_id", std::string(uuid)}});
      }
    }
    RECURRENT_ASSIGN_OR_RETURN(const bool recorded,
                               txn.InsertCancellation(uuid, cancelled_at, now));
    RECURRENT_ASSIGN_OR_RETURN(const Write::Recomputed recomputed,
                               write.RecomputeCustomer(customer, now));
    if (recorded) {
      RECURRENT_RETURN_IF_ERROR(
          write.Append(CustomerChanged(recomputed.state.customer, now)));
    }
    const engine::MrrTimeline mrr = engine::MrrTimeline::Build(
        recomputed.state.facts, *recomputed.timeline);
    for (EvaluatedSubscription& subscription :
         StartedSubscriptions(recomputed.state, recomputed.evaluation, &mrr)
             .subscriptions) {
      if (subscription.ref.uuid == uuid) return subscription;
    }
    return absl::InternalError(absl::StrCat(
        "subscription ", uuid, " vanished after its cancellation"));
  });
}

absl::StatusOr<Page<SubscriptionEvent>> Store::ListSubscriptionEvents(
    const EventFilter& filter, const PageRequest& page) {
  return Reading(
      [&](ReadTransaction& txn) { return txn.ListEvents(filter, page); });
}

// ---- Time passing -----------------------------------------------------------

absl::StatusOr<int> Store::ReevaluateDueCustomers(
    absl::Time now, int limit, std::vector<std::string>* skipped_before) {
  // (customer, the next_transition_at it was due at), for the log.
  std::vector<std::pair<std::string, absl::Time>> evaluated;
  std::vector<std::string> skipped_now;
  absl::StatusOr<int> count = Writing([&](Write& write) -> absl::StatusOr<int> {
    WriteTransaction& txn = write.txn();
    skipped_now.clear();  // a retried transaction starts again
    // Customers skipped earlier in the run are claimed too (they come first,
    // being due earliest) but left out, so that `limit` others are reached.
    const absl::flat_hash_set<std::string> excluded =
        skipped_before != nullptr
            ? absl::flat_hash_set<std::string>(skipped_before->begin(),
                                               skipped_before->end())
            : absl::flat_hash_set<std::string>();
    RECURRENT_ASSIGN_OR_RETURN(
        std::vector<std::string> due,
        txn.ClaimDueCustomers(now, limit + static_cast<int>(excluded.size())));
    due.erase(std::remove_if(due.begin(), due.end(),
                             [&](const std::string& uuid) {
                               return excluded.contains(uuid);
                             }),
              due.end());
    if (static_cast<int>(due.size()) > limit) due.resize(limit);
    if (due.empty()) return 0;
    // The sources of every due customer at once, without waiting; if one is
    // held (by a settings change of it, on PostgreSQL), customer by
    // customer, and those whose sources are held stay due for a later
    // round. Waiting instead would keep the locks taken so far, and writes
    // to those sources would wait behind this transaction.
    RECURRENT_ASSIGN_OR_RETURN(const bool all_locked,
                               txn.TryLockCustomerSources(due));
    int skipped = 0;
    for (const std::string& uuid : due) {
      if (!all_locked) {
        RECURRENT_ASSIGN_OR_RETURN(const bool locked,
                                   txn.TryLockCustomerSources({uuid}));
        if (!locked) {
          ++skipped;
          skipped_now.push_back(uuid);
          continue;
        }
      }
      absl::StatusOr<CustomerState> loaded = txn.LoadCustomerState(uuid, true);
      // Merged away or deleted since the claim: nothing left to do.
      if (absl::IsNotFound(loaded.status())) continue;
      RECURRENT_RETURN_IF_ERROR(loaded.status());
      const CustomerState& state = *loaded;
      // Read under the source locks: a write that committed since the claim
      // (on this process or another) may have evaluated the customer at a
      // later instant, so that it is due no more.
      if (!state.next_transition_at.has_value() ||
          *state.next_transition_at > now) {
        continue;
      }
      if (options_.log_reevaluations) {
        evaluated.emplace_back(
            uuid, state.next_transition_at.value_or(absl::InfinitePast()));
      }
      absl::StatusOr<engine::CustomerTimeline> timeline = BuildTimeline(state);
      if (timeline.status().code() == absl::StatusCode::kInvalidArgument) {
        // Left out of later rounds rather than blocking every one.
        log::Error("cannot re-evaluate a customer",
                   {{"customer", uuid},
                    {"error", std::string(timeline.status().message())}});
        persistence::EvaluationWrite clear;
        clear.customer_key = state.key;
        clear.customer = persistence::EvaluationWrite::CustomerUpdate{
            state.customer.status, state.customer.status_reason,
            state.customer.derived_tags, std::nullopt};
        RECURRENT_RETURN_IF_ERROR(txn.WriteEvaluation(clear));
        continue;
      }
      RECURRENT_RETURN_IF_ERROR(timeline.status());
      RECURRENT_ASSIGN_OR_RETURN(
          const Recompute recompute,
          PlanRecompute(state, *timeline, now, StoredView(state)));
      RECURRENT_RETURN_IF_ERROR(write.Apply(recompute));
    }
    return static_cast<int>(due.size()) - skipped;
  });
  if (count.ok() && skipped_before != nullptr) {
    skipped_before->insert(skipped_before->end(), skipped_now.begin(),
                           skipped_now.end());
  }
  if (count.ok()) {
    for (const auto& [uuid, due_at] : evaluated) {
      log::Info("re-evaluated",
                {{"customer", uuid},
                 {"due_at", absl::FormatTime(absl::RFC3339_full, due_at,
                                             absl::UTCTimeZone())}});
    }
  }
  return count;
}

// ---- The change log ---------------------------------------------------------

absl::StatusOr<std::vector<persistence::ChangeRow>> Store::ReadChanges(
    int64_t after, int limit) {
  return Reading(
      [&](ReadTransaction& txn) { return txn.ReadChanges(after, limit); });
}

Store::ChangePosition Store::PositionOf(const persistence::ChangeRow& row) {
  return ChangePosition{row.sequence,
                        static_cast<uint32_t>(static_cast<uint64_t>(
                            absl::ToUnixMicros(row.committed_at)))};
}

namespace {

bool IsFeedRow(const persistence::ChangeRow& row) {
  switch (row.kind) {
    case persistence::ChangeKind::kEventPublished:
    case persistence::ChangeKind::kEventRetracted:
    case persistence::ChangeKind::kCustomerStatusChanged:
      return true;
    case persistence::ChangeKind::kCustomerChanged:
    case persistence::ChangeKind::kSourceChanged:
      return false;
  }
  return false;
}

bool Matches(const Store::ChangeFilter& filter,
             const persistence::ChangeRow& row) {
  if (!filter.customer_uuid.empty() &&
      row.customer_uuid != filter.customer_uuid) {
    return false;
  }
  if (filter.data_source_uuid.empty() ||
      row.data_source_uuid == filter.data_source_uuid) {
    return true;
  }
  return row.kind == persistence::ChangeKind::kCustomerStatusChanged &&
         absl::c_linear_search(row.customer_sources, filter.data_source_uuid);
}

// kNotFound if `filter` names an absent source or customer.
absl::Status CheckChangeFilter(ReadTransaction& txn,
                               const Store::ChangeFilter& filter) {
  if (!filter.data_source_uuid.empty()) {
    RECURRENT_RETURN_IF_ERROR(
        txn.GetDataSource(filter.data_source_uuid).status());
  }
  if (!filter.customer_uuid.empty()) {
    RECURRENT_RETURN_IF_ERROR(txn.GetCustomer(filter.customer_uuid).status());
  }
  return absl::OkStatus();
}

// A change cursor this database did not issue, and why.
absl::Status CursorUnknownError(const char* why) {
  return common::WithReason(absl::InvalidArgumentError(why),
                            common::reason::kChangeCursorUnknown);
}

// Why a change cursor ahead of the change log is refused: a read-only
// replica may not have replayed it yet (Options::read_only); anywhere else
// this database never issued it.
absl::Status CursorAheadError(bool read_only) {
  if (read_only) {
    return common::WithReason(
        absl::UnavailableError(
            "the cursor is ahead of this read-only replica's change log: the "
            "replica has not replayed those changes yet; retry, or watch on a "
            "writable replica"),
        common::reason::kChangeLogBehind);
  }
  return CursorUnknownError(
      "the cursor is ahead of the change log: it was not issued by this "
      "database");
}

// The place after sequence `sequence`, checked if the log holds that
// change.
absl::StatusOr<Store::ChangePosition> PositionAt(ReadTransaction& txn,
                                                 int64_t sequence) {
  Store::ChangePosition position{sequence, std::nullopt};
  if (sequence <= 0) return position;
  RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::ChangeRow> rows,
                             txn.ReadChanges(sequence - 1, 1));
  if (!rows.empty() && rows[0].sequence == sequence) {
    return Store::PositionOf(rows[0]);
  }
  return position;
}

}  // namespace

bool Store::InFeed(const ChangeFilter& filter,
                   const persistence::ChangeRow& row) {
  return IsFeedRow(row) && Matches(filter, row);
}

absl::StatusOr<Store::ChangesPage> Store::ListChanges(
    const ChangeFilter& filter, std::optional<ChangePosition> after,
    int limit) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<ChangesPage> {
    if (!after.has_value()) {
      RECURRENT_RETURN_IF_ERROR(CheckChangeFilter(txn, filter));
    }
    RECURRENT_ASSIGN_OR_RETURN(const int64_t last, txn.LastChangeSequence());
    if (after.has_value() && after->sequence > last) {
      return CursorAheadError(options_.read_only);
    }
    RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::ChangeRow> oldest,
                               txn.ReadChanges(0, 1));
    const int64_t first_kept = oldest.empty() ? last + 1 : oldest[0].sequence;
    if (after.has_value() && after->sequence < first_kept - 1) {
      return common::WithReason(
          absl::OutOfRangeError(
              "the cursor is older than the change log's retention: changes "
              "after it were pruned; start again from an empty cursor (and "
              "reconcile with ListSubscriptionEvents)"),
          common::reason::kChangeCursorExpired);
    }
    if (after.has_value() && after->check.has_value()) {
      // A change pruned since is not checked (nothing to compare with).
      RECURRENT_ASSIGN_OR_RETURN(const ChangePosition here,
                                 PositionAt(txn, after->sequence));
      if (here.check.has_value() && here.check != after->check) {
        return CursorUnknownError(
            "the cursor names a change this database's log does not hold: "
            "it was issued by another database, or by this one after the "
            "backup it was restored from; start again from an empty cursor "
            "(and reconcile with ListSubscriptionEvents)");
      }
    }
    ChangesPage page;
    std::vector<persistence::ChangeRow>& found = page.rows;
    ChangePosition& position = page.scanned_to;
    // An empty cursor starts before the oldest row kept: past everything
    // pruned, so that the cursor returned is valid even when the log holds
    // no row at all.
    position = after.value_or(ChangePosition{first_kept - 1, std::nullopt});
    int examined = 0;
    page.more = true;
    while (static_cast<int>(found.size()) < limit &&
           examined < kMaxChangeRowsExamined) {
      const int wanted =
          std::min(kChangeScanBatchRows, kMaxChangeRowsExamined - examined);
      RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::ChangeRow> batch,
                                 txn.ReadChanges(position.sequence, wanted));
      for (persistence::ChangeRow& row : batch) {
        const ChangePosition before = position;
        position = PositionOf(row);
        ++examined;
        if (!InFeed(filter, row)) continue;
        found.push_back(std::move(row));
        page.preceding.push_back(before);
        if (static_cast<int>(found.size()) == limit) break;
      }
      if (static_cast<int>(batch.size()) < wanted) {
        // The end of the log: more only if the page filled before it.
        page.more = !batch.empty() && position.sequence < batch.back().sequence;
        break;
      }
    }
    return page;
  });
}

absl::StatusOr<Store::ChangePosition> Store::StartChanges(
    const ChangeFilter& filter) {
  return Reading([&](ReadTransaction& txn) -> absl::StatusOr<ChangePosition> {
    RECURRENT_RETURN_IF_ERROR(CheckChangeFilter(txn, filter));
    RECURRENT_ASSIGN_OR_RETURN(const int64_t last, txn.LastChangeSequence());
    return PositionAt(txn, last);
  });
}

absl::StatusOr<persistence::StorageStats> Store::ReadStorageStats() {
  return Reading([](ReadTransaction& txn) { return txn.ReadStorageStats(); });
}

absl::StatusOr<int64_t> Store::PruneChanges(
    absl::Time before, const std::function<bool()>& stop_requested) {
  int64_t total = 0;
  while (true) {
    if (stop_requested && stop_requested()) return total;
    RECURRENT_ASSIGN_OR_RETURN(const int64_t pruned, Writing([&](Write& write) {
                                 return write.txn().PruneChanges(
                                     before, kPruneBatchRows);
                               }));
    total += pruned;
    if (pruned < kPruneBatchRows) return total;
  }
}

}  // namespace recurrent::core
