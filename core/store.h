// Store: what every Recurrent call means, written once over any backend.
//
// The service layer parses a request, calls one Store method and converts
// the result. The Store runs each write as one backend transaction:
//
//   lock the sources concerned -> load the customer -> apply the rows the
//   call writes -> evaluate the customer with the engine -> compare with the
//   stored evaluation -> write the difference -> append to the change log
//   -> commit -> hand the change-log rows to the ChangeFollower
//
// so that a customer's stored evaluation (subscription statuses, events,
// customer status, derived tags, next_transition_at) is always the engine's
// answer for its stored facts at the instant of its last write, and the
// change log (persistence/records.h, ChangeRow) holds exactly what changed,
// in commit order. A call that fails changes nothing and appends nothing.
//
// Errors are absl::Status codes as in persistence/backend.h, plus
// kInvalidArgument when the engine rejects facts or a request names things
// that do not fit together (e.g. an invoice of a source the customer is not
// in), kFailedPrecondition when a request conflicts with the stored state,
// and kResourceExhausted for a customer's tag limit. Messages are safe to
// show to API callers.
//
// Small writes (one customer's: imports, payments, cancellations, customer
// edits, merges) may share one transaction and one commit with concurrent
// ones (core/group_commit.h, Options::max_group_writes), each still
// all-or-nothing; writes over a whole source (settings, reprocess, deleting
// a source) and the background ones (re-evaluation, pruning) run alone.
//
// The Store never reads the clock: callers pass `now`. Thread-safe; its
// only state is the queue of writes waiting for their group.
#ifndef RECURRENT_CORE_STORE_H_
#define RECURRENT_CORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/change_follower.h"
#include "core/group_commit.h"
#include "core/settings.h"
#include "core/settings_changes.h"
#include "engine/evaluation.h"
#include "engine/mrr.h"
#include "persistence/backend.h"
#include "persistence/records.h"

namespace recurrent::core {

using persistence::Customer;
using persistence::CustomerFilter;
using persistence::EventFilter;
using persistence::Invoice;
using persistence::InvoiceFilter;
using persistence::Page;
using persistence::PageRequest;
using persistence::SubscriptionEvent;
using persistence::SubscriptionRef;
using persistence::Transaction;

struct ReprocessRequest;  // core/reprocess.h
struct ReprocessResult;

// Most user tags one customer may carry.
inline constexpr int kMaxTagsPerCustomer = 100;

// Most customers one page of Store::ListCustomersAt evaluates.
inline constexpr int kMaxCustomersEvaluatedPerPage = persistence::kMaxPageSize;

// ListInvoices' filter on an invoice's open-ness at an instant.
struct OpenAt {
  bool open = true;
  absl::Time as_of;
};

// A subscription as the engine evaluates it at an instant.
struct EvaluatedSubscription {
  persistence::RowKey key = 0;  // creation order within its customer
  SubscriptionRef ref;
  engine::SubscriptionEvaluation evaluation;
  // Its MRR at the same instant and its currency (M2,
  // engine::MrrTimeline::SubscriptionMrrAt), from the same timeline.
  engine::MrrAmount mrr;
};

// A customer as the engine evaluates it at an instant.
struct EvaluatedCustomer {
  // As stored (fields, tags, external ids), with `mrr` at the instant.
  Customer customer;
  engine::CustomerEvaluation evaluation;
  // One sentence explaining evaluation.status (engine/customer_reason.h).
  std::string status_reason;
  // The first instant after the evaluation's at which the answer (the
  // evaluation or customer.mrr) changes if no facts change: the earlier of
  // evaluation.next_transition_at and the next MRR movement; unset if none
  // ever does.
  std::optional<absl::Time> next_change_at;
  // The sources whose settings the answer depends on
  // (CustomerState::settings: every source the customer has an external id
  // or an invoice in). A change of any other source's settings leaves the
  // answer as it is.
  std::vector<std::string> sources;
};

class Store {
 public:
  struct Options {
    // Threads that evaluate customers while a source is reprocessed; 0
    // means one per core this process may run on.
    int reprocess_threads = 0;
    // Customers per unit of work of a reprocess. Bounds its memory: at most
    // reprocess_threads + 2 chunks are held at once.
    int reprocess_chunk_customers = 1024;
    // The backend only reads a database another server writes (--read_only),
    // and may lag it (a PostgreSQL hot standby replays its primary's log): a
    // change cursor ahead of its change log is then UNAVAILABLE
    // CHANGE_LOG_BEHIND (retry) rather than one this database never issued.
    bool read_only = false;
    // Idle-priority reprocess threads starved this long are raised to nice
    // 10 (core/reprocess.h).
    absl::Duration reprocess_promote_after = absl::Milliseconds(250);
    // Most subscription changes UpdateSettings lists (tests lower it).
    int max_listed_settings_changes = kMaxListedSettingsChanges;
    // An import or merge that would leave a customer with more invoices or
    // subscriptions than these fails with kFailedPrecondition, storing
    // nothing. They bound what one customer's evaluation costs (every read
    // and write of it loads all its facts).
    int max_invoices_per_customer = 100000;
    int max_subscriptions_per_customer = 10000;
    // Print one line per customer the re-evaluator re-evaluated, after its
    // commit: "recurrentd: re-evaluated cus_… due at <time>" (an audit of
    // who applied which transition, e.g. across replicas).
    bool log_reevaluations = false;
    // A ListInvoices page filtered on open-ness reads at most about this
    // many stored invoices (whole chunks of at least the page size), then
    // returns what it found with a token to continue. Bounds one call's work
    // when few invoices match.
    int max_invoices_scanned_per_page = 5000;
    // Most small writes one transaction holds (group commit); <= 1 runs
    // every write in a transaction of its own. Group commit is for a
    // backend whose writes run one at a time (SQLite): where they run in
    // parallel and wait for each other's locks (PostgreSQL), a group waiting
    // for one write's lock holds up every write in it, so recurrentd sets 1
    // there.
    int max_group_writes = 64;
  };

  // `backend` and `follower` (which may be null) are not owned and must
  // outlive the Store.
  Store(persistence::Backend* backend, const Options& options,
        ChangeFollower* follower);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- Data sources and settings ----

  // Creates a source with settings version 1 (mode kKeep, applied_at =
  // saved_at = created_at = now). kAlreadyExists if the name is taken.
  absl::StatusOr<DataSource> CreateDataSource(absl::string_view name,
                                              absl::string_view system,
                                              absl::Time now);
  // kNotFound if absent.
  absl::StatusOr<DataSource> GetDataSource(absl::string_view uuid);
  absl::StatusOr<Page<DataSource>> ListDataSources(const PageRequest& page);
  // Deletes the source, its settings history, and its customers' external
  // ids in it. A customer left with no external id is deleted with
  // everything it owns; a merged customer whose primary source is deleted
  // keeps its next external id as primary, loses the invoices and
  // subscriptions of the deleted source, and is recomputed at `now`.
  // kNotFound if absent.
  absl::Status DeleteDataSource(absl::string_view uuid, absl::Time now);

  // The current settings. kNotFound if the source is absent.
  absl::StatusOr<SourceSettings> GetSettings(absl::string_view uuid);
  // Save and reprocess. Reads the current settings and passes them to
  // `decide` (which must not call the Store). With a new version: saves it
  // as version current+1 (saved_at = now, or the current version's saved_at
  // if later) and recomputes, at `now` and under
  // the new settings, every customer that has a subscription in the source
  // (merged customers included), all in one transaction: readers see the
  // old or the new state, never a mix. The version records the impact.
  // Writes to the source wait for it; reads are served throughout.
  //
  // With `dry_run`, computes the same impact on a snapshot and changes
  // nothing (it blocks no writer). With no new version, changes nothing and
  // reports a zero impact. With `list_changes`, also lists the subscriptions
  // whose status now or whose auto-churns the change changes, from the same
  // comparison as the impact (core/settings_changes.h; at most
  // Options::max_listed_settings_changes, the others counted); nothing with
  // no new version. kNotFound if the source is absent.
  struct SettingsUpdate {
    // The new version: saved if `applied`, else (a dry run) as it would be
    // saved. With no new version, the current settings.
    SourceSettings settings;
    SettingsImpact impact;  // exact; also for a dry run
    bool applied = false;   // a new version was saved
    // With list_changes, sorted by (customer uuid, subscription uuid).
    std::vector<SubscriptionChange> changes;
    int64_t changes_not_listed = 0;
  };
  absl::StatusOr<SettingsUpdate> UpdateSettings(absl::string_view uuid,
                                                const SettingsDecision& decide,
                                                bool dry_run, absl::Time now,
                                                bool list_changes = false);
  // Recomputes every customer that has a subscription in the source under
  // its current settings at `now` (for an operator after an upgrade),
  // atomically as above, and returns the impact; saves no new version.
  // kNotFound if the source is absent.
  absl::StatusOr<SettingsImpact> ReprocessDataSource(absl::string_view uuid,
                                                     absl::Time now);
  // Every version, oldest first. kNotFound if the source is absent.
  absl::StatusOr<std::vector<SourceSettings>> ListSettingsHistory(
      absl::string_view uuid);

  // ---- Customers ----

  // Creates a customer from `customer`'s fields and (data_source_uuid,
  // external_id); its status starts as kLead. kNotFound if the source is
  // absent; kAlreadyExists if the external id is taken in the source, by
  // any customer's primary or merged external id.
  absl::StatusOr<Customer> CreateCustomer(const Customer& customer,
                                          absl::Time now);
  // The stored customer. kNotFound if absent.
  absl::StatusOr<Customer> GetCustomer(absl::string_view uuid);
  // Reads the customer, lets `mutate` change its writable fields
  // (CustomerFields; changes to other fields are ignored), stores it with
  // updated_at = now and returns it (with the stored status and its MRR at
  // `now`; every write below that returns a Customer fills its `mrr` at the
  // instant it answers for, CreateCustomer's being empty). An error from `mutate` aborts and is
  // returned as is; `mutate` must not call the Store. kNotFound if absent.
  using CustomerMutation = std::function<absl::Status(Customer& customer)>;
  absl::StatusOr<Customer> UpdateCustomer(absl::string_view uuid,
                                          const CustomerMutation& mutate,
                                          absl::Time now);
  // Deletes the customer and everything it owns. kNotFound if absent.
  absl::Status DeleteCustomer(absl::string_view uuid, absl::Time now);
  // Customers matching `filter`, in creation order, with their stored
  // evaluation (status, status_reason, derived tags: as of their last
  // recompute, which the re-evaluator keeps current); the status filter
  // matches the stored status. kNotFound if the filter names an absent
  // source.
  absl::StatusOr<Page<Customer>> ListCustomers(const CustomerFilter& filter,
                                               const PageRequest& page);
  // ListCustomers with each customer's `mrr` at `now` read from its stored
  // MRR rows (core/mrr_rows.h) in the same snapshot (exact for the facts stored, whatever the
  // lag of the stored status; none for a customer whose rows were never
  // written, e.g. in a migrated database before a reprocess).
  absl::StatusOr<Page<Customer>> ListCustomersWithMrr(
      const CustomerFilter& filter, const PageRequest& page, absl::Time now);
  // The same listing with each customer evaluated from its facts at `as_of`
  // (as EvaluateCustomer does, so each answers as it would there), and the
  // status filter matching the status at `as_of`. Reads one snapshot and
  // evaluates at most kMaxCustomersEvaluatedPerPage customers: with a status
  // filter, a page may then hold fewer than page_size customers (even none)
  // and still have a next_page_token. A token continues the listing of the
  // same filters (as_of is the caller's to keep). kNotFound if the filter
  // names an absent source; kInvalidArgument for a bad page size or token,
  // or facts the engine rejects.
  absl::StatusOr<Page<EvaluatedCustomer>> ListCustomersAt(
      const CustomerFilter& filter, absl::Time as_of, const PageRequest& page);
  // Moves everything of `from` (external ids, tags, invoices, subscriptions)
  // to `into`, deletes `from`, recomputes `into` and returns it (`mrr` as
  // recomputed). Lead and
  // trial dates become the earliest set value of the two. kNotFound if
  // either is absent; kInvalidArgument if they are the same customer;
  // kResourceExhausted, merging nothing, if `into` would carry more than
  // kMaxTagsPerCustomer user tags; kFailedPrecondition, merging nothing, if
  // it would exceed Options' invoices or subscriptions per customer.
  absl::StatusOr<Customer> MergeCustomers(absl::string_view from_uuid,
                                          absl::string_view into_uuid,
                                          absl::Time now);
  // Adds/removes user tags (idempotent) and returns the customer. kNotFound
  // if absent; AddCustomerTags fails with kResourceExhausted, adding
  // nothing, if the customer would carry more than kMaxTagsPerCustomer.
  absl::StatusOr<Customer> AddCustomerTags(absl::string_view uuid,
                                           const std::vector<std::string>& tags,
                                           absl::Time now);
  absl::StatusOr<Customer> RemoveCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now);
  // The customer evaluated by the engine from its stored facts at `as_of`
  // (any instant: a future one projects the known facts), with its MRR at
  // `as_of` (customer.mrr). kNotFound if absent.
  absl::StatusOr<EvaluatedCustomer> EvaluateCustomer(absl::string_view uuid,
                                                     absl::Time as_of);
  // The customer's subscriptions that have started by `as_of` (R1: the
  // others do not count yet), evaluated at `as_of` with their MRR then, in
  // creation order, a
  // page at a time (a token names a position in that order, so pages stay
  // consistent across writes: a new subscription comes last). kNotFound if
  // the customer is absent; kInvalidArgument for a bad page size or token.
  absl::StatusOr<Page<EvaluatedSubscription>> ListSubscriptions(
      absl::string_view customer_uuid, absl::Time as_of,
      const PageRequest& page);

  // ---- Invoices ----

  // Imports `invoices` for the customer, all or nothing. For each invoice:
  // an empty data_source_uuid means the customer's only source
  // (kInvalidArgument "invoices[i].data_source_uuid: …" if it spans
  // several); the source must be one of the customer's (kInvalidArgument).
  // An invoice whose (source, external_id) is stored already is a no-op if
  // its content is identical (same customer, fields, line items and
  // transactions, uuids aside) and kAlreadyExists naming the invoice
  // otherwise; line item and transaction external ids are unique per source
  // likewise. A SUBSCRIPTION or TRIAL line item creates its subscription
  // (R1); one that belongs to another customer of the same source is
  // kFailedPrecondition. kFailedPrecondition, storing nothing, if the
  // customer would exceed Options' invoices or subscriptions per customer.
  // Returns the invoices as stored (with uuids), in request order.
  // kNotFound if the customer is absent.
  absl::StatusOr<std::vector<Invoice>> ImportInvoices(
      absl::string_view customer_uuid, const std::vector<Invoice>& invoices,
      absl::Time now);
  // kNotFound if absent.
  absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid);
  // In import order, a page at a time. A filter naming an absent customer
  // or source matches nothing. With `open_at`, only the invoices whose
  // open-ness at its instant (R2, AmountsAt in core/invoices.h) equals its
  // `open`: a page holds up to page.page_size of them, found among about
  // Options' max_invoices_scanned_per_page stored invoices at most, so it
  // may be short (even empty) with a next_page_token; across the pages every
  // matching invoice appears exactly once, since a token names a position in
  // import order. kNotFound if a named customer or source is absent (a
  // customer merged away included); kInvalidArgument for a bad page size or
  // a token of another query (other filters, `open_at.open` included).
  absl::StatusOr<Page<Invoice>> ListInvoices(
      const InvoiceFilter& query, const PageRequest& page,
      std::optional<OpenAt> open_at = std::nullopt);
  // Deletes the invoice (its line items and transactions) and the
  // subscriptions it leaves with no SUBSCRIPTION or TRIAL line item (R1),
  // and recomputes its customer. kNotFound if absent.
  absl::Status DeleteInvoice(absl::string_view uuid, absl::Time now);
  // Adds a transaction to an invoice and recomputes its customer. An
  // identical transaction with the same external id is a no-op returning
  // the stored one; a different one is kAlreadyExists. kNotFound if the
  // invoice is absent.
  absl::StatusOr<Transaction> AddTransaction(absl::string_view invoice_uuid,
                                             const Transaction& transaction,
                                             absl::Time now);

  // ---- Subscriptions and events ----

  // kNotFound if absent.
  absl::StatusOr<SubscriptionRef> GetSubscription(absl::string_view uuid);
  // Records an explicit cancellation at `cancelled_at` (R4), recomputes the
  // customer and returns the subscription (and its MRR) as of `now`;
  // recording the same instant again changes nothing. kFailedPrecondition
  // if the subscription has not started by `cancelled_at` (R1: it does not
  // count yet). kNotFound if absent.
  absl::StatusOr<EvaluatedSubscription> CancelSubscription(
      absl::string_view uuid, absl::Time cancelled_at, absl::Time now);
  // Stored events (every event of each customer's timeline as of its last
  // write, future ones included) matching `filter`, by occurred_at.
  // kNotFound if a named customer or source is absent; kInvalidArgument if
  // neither is named.
  absl::StatusOr<Page<SubscriptionEvent>> ListSubscriptionEvents(
      const EventFilter& filter, const PageRequest& page);

  // ---- Time passing ----

  // Recomputes (at `now`) up to `limit` customers whose stored
  // next_transition_at is at or before `now`, oldest first, in one write
  // transaction, and returns how many it claimed less those it skipped: a
  // customer one of whose sources another transaction holds (a settings
  // change of it, on PostgreSQL) stays due for a later round instead of
  // this one waiting. A customer whose facts the engine rejects is logged
  // and left out of later rounds. With `skipped`, the customers in it are
  // not claimed (they were skipped earlier in the same run), and those
  // skipped now are appended to it: a run goes on past a held source's
  // customers to the others due.
  absl::StatusOr<int> ReevaluateDueCustomers(
      absl::Time now, int limit, std::vector<std::string>* skipped = nullptr);

  // ---- The change log ----

  // What the change feed shows (ListChanges): the published, retracted and
  // status-change rows, of one source and/or one customer if given.
  struct ChangeFilter {
    // An event of that source; a status change of a customer with an
    // external id in it.
    std::string data_source_uuid;
    std::string customer_uuid;
  };
  // A place in the change log, as cursors carry it: after the change
  // numbered `sequence`. `check` identifies that change when the log held
  // it as the place was handed out (PositionOf); given back, it must match the
  // change of that number in this log, so that a cursor of another
  // database, or one taken after the backup this database was restored
  // from (its log numbers new changes again from the backup's last), is
  // refused instead of silently skipping changes. Unset for places that name no
  // change (an empty log) and in cursors of earlier versions: those are not
  // checked.
  struct ChangePosition {
    int64_t sequence = 0;
    std::optional<uint32_t> check;
  };
  // The place after `row`. Its check is the low 32 bits of the change's
  // commit time in microseconds: a change numbered again after a restore
  // commits at another time. Stable across processes and backends.
  static ChangePosition PositionOf(const persistence::ChangeRow& row);
  struct ChangesPage {
    std::vector<persistence::ChangeRow> rows;
    // The last row examined (rows up to it that are not in `rows` do not
    // match): where the next page starts. `after` if none.
    ChangePosition scanned_to;
    // For each of `rows`, the place just before it: the row examined before
    // it, or `after`. A reader that stops before rows[i] resumes from
    // preceding[i] without examining again what it skipped.
    std::vector<ChangePosition> preceding;
    // Rows after scanned_to were not examined (the page is full, or the
    // call examined its most rows).
    bool more = false;
  };
  // Up to `limit` feed rows after `after` that match `filter`, in sequence
  // order, from one snapshot, examining at most kMaxChangeRowsExamined
  // rows. Without `after`, from the oldest row kept, and kNotFound if a
  // filter names an absent source or customer. With it, a filter is not
  // looked up: the rows of a customer or source deleted or merged away
  // since (their retractions) are still listed. kOutOfRange if rows after
  // `after` have been pruned (the cursor is older than the log's
  // retention); kInvalidArgument if `after` is beyond the last sequence
  // ever assigned (kUnavailable on a read-only replica, which may not have
  // replayed it yet), or if its check differs from this log's change of
  // that number.
  absl::StatusOr<ChangesPage> ListChanges(const ChangeFilter& filter,
                                          std::optional<ChangePosition> after,
                                          int limit);
  // The most rows one ListChanges call examines.
  static constexpr int kMaxChangeRowsExamined = 100000;
  // Whether ListChanges lists `row` under `filter`: a feed row (an event
  // published or retracted, a customer's status change) that it matches.
  static bool InFeed(const ChangeFilter& filter,
                     const persistence::ChangeRow& row);
  // Where a feed that starts now starts: after the last sequence ever
  // assigned (0 if none), checked if that change is still in the log.
  // kNotFound if `filter` names an absent source or customer.
  absl::StatusOr<ChangePosition> StartChanges(const ChangeFilter& filter);

  // Up to `limit` rows after sequence `after`, in order.
  absl::StatusOr<std::vector<persistence::ChangeRow>> ReadChanges(int64_t after,
                                                                  int limit);
  // Deletes the rows committed before `before` (in batches); returns how
  // many. Stops between batches once `stop_requested` (if set) returns
  // true: a server shutting down leaves the rest for its next start.
  absl::StatusOr<int64_t> PruneChanges(
      absl::Time before, const std::function<bool()>& stop_requested = {});

  // What the metrics report of the stored data (re-evaluator lag, change
  // log size and age).
  absl::StatusOr<persistence::StorageStats> ReadStorageStats();
  // What group commit has done since the start.
  GroupCommit::Stats group_commit_stats() const {
    return group_commit_.stats();
  }

 private:
  // Runs `fn(write)` in a write transaction of its own, commits if it
  // succeeds, then delivers the appended change rows. Returns fn's result,
  // or the commit's error.
  template <typename Fn>
  auto Writing(Fn&& fn);
  // The same for a small write, in a transaction it may share with other
  // small writes (GroupCommit::Run).
  template <typename Fn>
  auto WritingShared(Fn&& fn);
  template <typename Fn>
  auto Written(bool shared, Fn&& fn);
  // Runs `fn(txn)` in a read transaction.
  template <typename Fn>
  auto Reading(Fn&& fn);

  // Loads the customer, lets `edit` change its fields and user tags, and
  // stores them with updated_at = now (kResourceExhausted, changing
  // nothing, beyond kMaxTagsPerCustomer tags).
  absl::StatusOr<Customer> EditCustomer(
      absl::string_view uuid, absl::Time now,
      const std::function<absl::Status(Customer&)>& edit);
  // The request that reprocesses source `uuid` at `now` under `settings`
  // (every source's current ones) or, with `next`, under them with `next`
  // for the source (then the impact compares with `settings`).
  ReprocessRequest MakeReprocessRequest(absl::string_view uuid,
                                        engine::SettingsMap settings,
                                        const SourceSettings* next,
                                        bool list_changes,
                                        absl::Time now) const;
  absl::StatusOr<ReprocessResult> Reprocess(Write& write,
                                            absl::string_view uuid,
                                            const SourceSettings* next,
                                            bool list_changes, absl::Time now);
  absl::StatusOr<SettingsUpdate> PreviewSettings(absl::string_view uuid,
                                                 const SettingsDecision& decide,
                                                 bool list_changes,
                                                 absl::Time now);
  int ReprocessThreads() const;

  persistence::Backend* const backend_;
  const Options options_;
  GroupCommit group_commit_;  // delivers committed changes to the follower
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_STORE_H_
