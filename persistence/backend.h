// Backend: where Recurrent's rows live, behind one narrow interface.
//
// A backend stores and reads rows (persistence/records.h) in transactions.
// It holds no status rule and never calls the engine: what a write means
// (which rows, which evaluation, which change-log rows) is decided by the
// core (core/store.h), written once for every backend. SqliteBackend
// (persistence/sqlite_backend.h) is the embedded default.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn,
//                    backend.BeginWrite());
//   RETURN_IF_ERROR(txn->LockCustomerSources({uuid}));
//   ASSIGN_OR_RETURN(CustomerState state, txn->LoadCustomerState(uuid, true));
//   ...
//   RETURN_IF_ERROR(txn->Commit());   // destroyed uncommitted: rolled back
//
// ---- The concurrency contract ----------------------------------------------
//
// Every backend keeps it, whatever number of threads or processes share one
// database:
//
// 1. Atomicity. A write transaction's changes become visible all at once on
//    Commit(), or never (an error, a crash, or destruction without Commit()).
//    The change-log rows appended in it commit with it. One error leaves the
//    outcome open: Commit() failing with reason COMMIT_OUTCOME_UNKNOWN (a
//    server connection lost during the COMMIT, an I/O error during it) may
//    have committed, all of
//    it; every other error means nothing was stored.
// 2. Snapshot reads. A read transaction sees one committed state for its
//    whole life, never part of a concurrent write.
// 3. Per-source write locks. Before a write transaction reads anything it
//    decides on, it takes the write lock of every data source whose rows it
//    changes: LockSourceWithItsCustomers() for source-wide work (settings,
//    reprocess, deleting a source), LockSources() for creating a customer,
//    LockCustomerSources() for the customers it changes. Locks are held until
//    the transaction ends; two transactions holding the lock of one source
//    never overlap. Writes to different sources may run in parallel. (A backend
//    whose write transactions are serialized anyway, like SQLite's, satisfies
//    this with no work.)
// 4. Claims. ClaimDueCustomers() returns customers that no other
//    transaction has claimed and not yet committed or rolled back, so that
//    several processes re-evaluating one database never evaluate the same
//    customer at once; a claim ends with its transaction (a dead process's
//    claims end with its connection).
// 5. Reprocess snapshot. ScanSource() on a write transaction, called before
//    the transaction writes anything, reads exactly the committed state that
//    its later writes replace: no other write to the source can commit
//    between the scan's snapshot and this transaction's commit.
// 6. Change-log order. Sequences of appended change rows increase in commit
//    order, without gaps (only pruning removes rows, the oldest): a reader
//    that has seen sequence n never later sees a new row below n, and the
//    next row it sees is n + 1 unless rows were pruned.
// 7. Savepoints. RollbackToSavepoint() undoes every write of the
//    transaction since its Savepoint() (appended change rows included), and
//    leaves it usable even after a failed method, as if the methods since
//    the savepoint had not run; the locks they took may stay held. Several
//    requests can so share one transaction and one commit, each still
//    all-or-nothing (core/group_commit.h). If the database ended the whole
//    transaction on its own (SQLite does on a full disk or an I/O error),
//    RollbackToSavepoint() fails and only destruction remains.
//
// ---- Errors (absl::Status codes) -------------------------------------------
//   kNotFound          a named row does not exist (message names it, e.g.
//                      "customer cus_123 not found")
//   kAlreadyExists     a uniqueness rule would be broken (message names the
//                      row, e.g. "line item 'LI-1' already exists in data
//                      source ds_…")
//   kInvalidArgument   a malformed page token or page size
//   kUnavailable       the database is busy or unreachable; retry later
//   kResourceExhausted the database or disk is full
//   kFailedPrecondition the database is read-only
//   kInternal          anything else
// Messages never contain SQL and are safe to show to API callers. A method
// that fails leaves the transaction usable only for rollback: to a
// savepoint (contract point 7), or of the whole transaction.
//
// Backends never read the clock: callers pass every instant.
#ifndef RECURRENT_PERSISTENCE_BACKEND_H_
#define RECURRENT_PERSISTENCE_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/error_reason.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// What every write to a read-only database fails with: kFailedPrecondition
// "database is read-only", reason DATABASE_READ_ONLY.
inline absl::Status DatabaseReadOnlyError() {
  return common::WithReason(
      absl::FailedPreconditionError("database is read-only"),
      common::reason::kDatabaseReadOnly);
}

// Streams the state of every customer that has a subscription in one data
// source, in RowKey order, each whole (its facts, subscriptions and events
// in every source). Used by one thread at a time; it may be another thread
// than its transaction's. Must not outlive its transaction.
class SourceScan {
 public:
  virtual ~SourceScan() = default;

  // Reads the next customer into `state` (replacing its content; events
  // included, settings left empty) and returns true, or returns false after
  // the last one.
  virtual absl::StatusOr<bool> Next(CustomerState& state) = 0;

  // Rows read so far over all tables (for benchmarks and logs).
  virtual int64_t rows_scanned() const = 0;
};

// A snapshot of the database (contract point 2). Not thread-safe: one
// thread at a time.
class ReadTransaction {
 public:
  virtual ~ReadTransaction() = default;

  // ---- Data sources and settings ----
  // kNotFound if absent.
  virtual absl::StatusOr<DataSourceRow> GetDataSource(
      absl::string_view uuid) = 0;
  // In creation order.
  virtual absl::StatusOr<Page<DataSourceRow>> ListDataSources(
      const PageRequest& page) = 0;
  // Every version of the source, oldest first. kNotFound if absent.
  virtual absl::StatusOr<std::vector<SettingsRow>> ListSettingsVersions(
      absl::string_view data_source_uuid) = 0;
  // The current version of every source.
  virtual absl::StatusOr<std::vector<SettingsRow>> CurrentSettings() = 0;

  // ---- Customers ----
  // kNotFound if absent.
  virtual absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) = 0;
  // In creation order.
  virtual absl::StatusOr<Page<Customer>> ListCustomers(
      const CustomerFilter& filter, const PageRequest& page) = 0;
  // The customer with its facts, the current settings of its sources, its
  // subscriptions with their stored evaluations and, if `with_events`, its
  // stored events; in a bounded number of queries whatever its size.
  // kNotFound if absent.
  virtual absl::StatusOr<CustomerState> LoadCustomerState(
      absl::string_view uuid, bool with_events) = 0;

  // ---- Invoices ----
  // kNotFound if absent.
  virtual absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid) = 0;
  // The invoice (source, external id), or nullopt.
  virtual absl::StatusOr<std::optional<Invoice>> FindInvoice(
      absl::string_view data_source_uuid, absl::string_view external_id) = 0;
  // In import order. A filter naming an absent customer or source matches
  // nothing.
  virtual absl::StatusOr<Page<Invoice>> ListInvoices(
      const InvoiceFilter& filter, const PageRequest& page) = 0;
  // The transaction (source, external id) and its invoice's uuid, or
  // nullopt.
  struct StoredTransaction {
    std::string invoice_uuid;
    Transaction transaction;
  };
  virtual absl::StatusOr<std::optional<StoredTransaction>> FindTransaction(
      absl::string_view data_source_uuid, absl::string_view external_id) = 0;

  // ---- Subscriptions and events ----
  // kNotFound if absent.
  virtual absl::StatusOr<SubscriptionRef> GetSubscription(
      absl::string_view uuid) = 0;
  // The subscription (source, external id), or nullopt.
  virtual absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
      absl::string_view data_source_uuid, absl::string_view external_id) = 0;
  // Stored events matching `filter`, ordered by (occurred_at, then a stable
  // tie-break). kNotFound if a named customer or source is absent;
  // kInvalidArgument if neither is named. `as_of` may change between pages.
  virtual absl::StatusOr<Page<SubscriptionEvent>> ListEvents(
      const EventFilter& filter, const PageRequest& page) = 0;

  // Starts streaming the customers of the source (SourceScan), reading this
  // transaction's snapshot (contract point 5 on a write transaction); while
  // the scan is in use, use the transaction for nothing else but, on a write
  // transaction, writes. kNotFound if the source is absent.
  virtual absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view data_source_uuid) = 0;

  // ---- Derived MRR (records.h, MrrWrite) ----
  // Stored MRR movements matching `filter`, ordered by (occurred_at, then a
  // stable tie-break). kNotFound if a named customer or source is absent.
  virtual absl::StatusOr<Page<MrrMovementRow>> ListMrrMovements(
      const MrrMovementFilter& filter, const PageRequest& page) = 0;
  // The sums of the stored MRR rows of the scope `data_source_uuid` (empty:
  // all sources, in_total rows) over each interval [bounds[i - 1],
  // bounds[i]), the first from the beginning of time: bounds.size()
  // entries, each per currency (MrrSums). `bounds` must be ascending.
  // kNotFound if a named source is absent.
  virtual absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrr(
      absl::string_view data_source_uuid,
      absl::Span<const absl::Time> bounds) = 0;
  // The stored MRR at `t` of each of `customer_uuids`, in their order: per
  // currency summed over sources, sorted, zeros left out (an absent
  // customer has none).
  virtual absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>>
  CustomersMrrAt(absl::Span<const std::string> customer_uuids,
                 absl::Time t) = 0;

  // ---- The change log ----
  // Up to `limit` rows with sequence > `after`, in sequence order.
  virtual absl::StatusOr<std::vector<ChangeRow>> ReadChanges(int64_t after,
                                                             int limit) = 0;
  // The same, of the rows of `kinds` only: the others are passed over
  // inside the query, so a long run of them costs little.
  virtual absl::StatusOr<std::vector<ChangeRow>> ReadChangesOfKinds(
      int64_t after, int limit, absl::Span<const ChangeKind> kinds) = 0;
  // The highest sequence ever appended (0 if none), pruned rows included.
  virtual absl::StatusOr<int64_t> LastChangeSequence() = 0;

  // ---- For the metrics ----
  virtual absl::StatusOr<StorageStats> ReadStorageStats() = 0;
};

// A write transaction: everything a ReadTransaction offers (reading the
// latest committed state plus this transaction's own writes), and writes.
class WriteTransaction : public ReadTransaction {
 public:
  // ---- Locks and claims (contract points 3 and 4) ----
  virtual absl::Status LockSources(
      absl::Span<const std::string> data_source_uuids) = 0;
  // Locks every source the customers have an external id in; absent
  // customers are skipped.
  virtual absl::Status LockCustomerSources(
      absl::Span<const std::string> customer_uuids) = 0;
  // The same without waiting: false, at once, if another transaction holds
  // one of those locks (some of the others may then stay held until this
  // transaction ends).
  virtual absl::StatusOr<bool> TryLockCustomerSources(
      absl::Span<const std::string> customer_uuids) = 0;
  // For source-wide work (a settings change, a reprocess, deleting the
  // source): locks the source and every other source its customers have an
  // external id in, since such work rewrites a merged customer's rows in
  // all of its sources.
  virtual absl::Status LockSourceWithItsCustomers(
      absl::string_view data_source_uuid) = 0;
  // Claims up to `limit` customers whose stored next_transition_at is at or
  // before `now`, earliest first, and returns their uuids.
  virtual absl::StatusOr<std::vector<std::string>> ClaimDueCustomers(
      absl::Time now, int limit) = 0;

  // ---- Data sources and settings ----
  // Inserts the source and its settings version 1 (`source.settings`).
  // kAlreadyExists if the name is taken.
  virtual absl::Status InsertDataSource(const DataSourceRow& source) = 0;
  // Deletes the source, its settings, and everything in it: its customers'
  // external ids in it, its invoices and subscriptions (with their line
  // items, transactions, cancellations and events). A customer left with no
  // external id is deleted with everything it owns. Returns the uuids of the
  // customers that had an external id in it and remain. kNotFound if absent.
  virtual absl::StatusOr<std::vector<std::string>> DeleteDataSource(
      absl::string_view uuid) = 0;
  // kNotFound if the source is absent; kAlreadyExists if the version is.
  virtual absl::Status InsertSettingsVersion(const SettingsRow& settings) = 0;

  // ---- Customers ----
  // Inserts `customer` (uuid, fields, times, status_reason; status kLead, no
  // tags) with its one external id (data_source_uuid, external_id).
  // kNotFound if the source is absent; kAlreadyExists if the external id is
  // taken in it.
  virtual absl::Status InsertCustomer(const Customer& customer) = 0;
  // Stores the customer's writable fields and user tags (replacing them)
  // and updated_at. kNotFound if absent.
  virtual absl::Status UpdateCustomer(absl::string_view uuid,
                                      const CustomerFields& fields,
                                      const std::vector<std::string>& tags,
                                      absl::Time updated_at) = 0;
  // Deletes the customer and everything it owns. kNotFound if absent.
  virtual absl::Status DeleteCustomer(absl::string_view uuid) = 0;
  // Moves everything `from` owns to `into` (external ids, appended after
  // into's; tags, as a union; invoices; subscriptions with their
  // cancellations and events) and deletes `from`. Both must exist.
  virtual absl::Status MoveCustomerRows(absl::string_view from_uuid,
                                        absl::string_view into_uuid) = 0;

  // ---- Invoices, transactions, subscriptions ----
  // Inserts the invoices (uuids assigned by the caller, data_source_uuid
  // set) with their line items and transactions, in order, for the
  // customer. kAlreadyExists naming the first invoice, line item or
  // transaction whose external id is taken in its source.
  virtual absl::Status InsertInvoices(absl::string_view customer_uuid,
                                      absl::Span<const Invoice> invoices) = 0;
  // Deletes the invoice with its line items and transactions. kNotFound if
  // absent.
  virtual absl::Status DeleteInvoice(absl::string_view uuid) = 0;
  // kNotFound if the invoice is absent; kAlreadyExists if the external id
  // is taken in its source.
  virtual absl::Status InsertTransaction(absl::string_view invoice_uuid,
                                         const Transaction& transaction) = 0;
  // kAlreadyExists if (source, external id) is taken.
  virtual absl::Status InsertSubscriptions(
      absl::Span<const SubscriptionRef> subscriptions) = 0;
  // Deletes the subscriptions with their cancellations and events.
  virtual absl::Status DeleteSubscriptions(
      absl::Span<const std::string> uuids) = 0;
  // Records an explicit cancellation; returns false (and stores nothing) if
  // the same instant is recorded already. kNotFound if the subscription is
  // absent.
  virtual absl::StatusOr<bool> InsertCancellation(
      absl::string_view subscription_uuid, absl::Time cancelled_at,
      absl::Time recorded_at) = 0;

  // ---- Evaluations and the change log ----
  virtual absl::Status WriteEvaluation(const EvaluationWrite& write) = 0;
  // Appends the rows, assigning their sequences (contract point 6).
  virtual absl::Status AppendChanges(absl::Span<const ChangeRow> rows) = 0;
  // Deletes rows from the oldest on while their committed_at is before
  // `before`, at most `limit`; returns how many.
  virtual absl::StatusOr<int64_t> PruneChanges(absl::Time before,
                                               int limit) = 0;

  // ---- Savepoints (contract point 7) ----
  // Marks the transaction's state; one savepoint at a time.
  virtual absl::Status Savepoint() = 0;
  // Returns to the savepoint's state and forgets the savepoint.
  virtual absl::Status RollbackToSavepoint() = 0;
  // Keeps the writes since the savepoint and forgets the savepoint.
  virtual absl::Status ReleaseSavepoint() = 0;

  // Commits (contract point 1). The transaction is then finished.
  virtual absl::Status Commit() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // What a read is for: a request's short read, or a long scan (a dry run)
  // that should not hold a resource short reads wait for.
  enum class ReadKind { kRequest, kScan };

  // Thread-safe; each transaction is used by one thread at a time.
  virtual absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead(
      ReadKind kind = ReadKind::kRequest) = 0;
  // Waits for the database's own write lock if it has one (SQLite's);
  // kUnavailable if it stays busy.
  virtual absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() = 0;
  // OK while the database can serve; otherwise why not (kUnavailable, e.g.
  // the database file was deleted, or the server cannot be reached). Cheap
  // enough to call every second; the server's health follows it.
  virtual absl::Status CheckHealth() = 0;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_BACKEND_H_
