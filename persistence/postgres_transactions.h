// PostgresBackend's transactions (persistence/backend.h).
//
// A read transaction is REPEATABLE READ READ ONLY on a leased connection:
// one snapshot from its first statement (contract point 2).
//
// A write transaction is READ COMMITTED, so that each statement after a
// lock sees what the lock's previous holder committed (a REPEATABLE READ
// snapshot would be taken at the lock statement, before the wait):
// - locks (point 3): transaction-scoped advisory locks, one per source
//   (kLockClassSource, keyed by a hash of the source's uuid), taken in key
//   order;
// - claims (point 4): a try-lock per customer (kLockClassCustomer) skipping
//   the customers another transaction holds, then a fresh read keeping
//   those still due; the locks end with the transaction, or with the
//   connection of a replica that died;
// - scans (point 5): the transaction exports its snapshot after its locks
//   and a new connection imports it, so the scan reads on another thread
//   exactly the state the locks protect;
// - log order (point 6): change rows are kept aside (PendingChanges: in
//   memory, then a temporary table) and appended just
//   before COMMIT (persistence/postgres_change_log.h).
// Both roll back when destroyed uncommitted, then end their lease.
//
// Internal to PostgresBackend (postgres_backend.h).
#ifndef RECURRENT_PERSISTENCE_POSTGRES_TRANSACTIONS_H_
#define RECURRENT_PERSISTENCE_POSTGRES_TRANSACTIONS_H_

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
#include "persistence/backend.h"
#include "persistence/postgres_change_log.h"
#include "persistence/postgres_connection.h"
#include "persistence/postgres_pool.h"
#include "persistence/postgres_source_scan.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// Every read of ReadTransaction but ScanSource, on the leased connection
// inside its transaction; shared by both kinds (`Interface` is
// ReadTransaction or WriteTransaction). After the transaction has ended
// (Commit, or an error that aborted it), every method fails with kInternal
// (or kUnavailable if the connection was lost).
template <typename Interface>
class ConnectionReads : public Interface {
 public:
  ConnectionReads(const ConnectionReads&) = delete;
  ConnectionReads& operator=(const ConnectionReads&) = delete;

  absl::StatusOr<DataSourceRow> GetDataSource(absl::string_view uuid) override;
  absl::StatusOr<Page<DataSourceRow>> ListDataSources(
      const PageRequest& page) override;
  absl::StatusOr<std::vector<SettingsRow>> ListSettingsVersions(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<std::vector<SettingsRow>> CurrentSettings() override;
  absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) override;
  absl::StatusOr<Page<Customer>> ListCustomers(
      const CustomerFilter& filter, const PageRequest& page) override;
  absl::StatusOr<CustomerState> LoadCustomerState(absl::string_view uuid,
                                                  bool with_events) override;
  absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid) override;
  absl::StatusOr<std::optional<Invoice>> FindInvoice(
      absl::string_view data_source_uuid,
      absl::string_view external_id) override;
  absl::StatusOr<Page<Invoice>> ListInvoices(const InvoiceFilter& filter,
                                             const PageRequest& page) override;
  absl::StatusOr<std::optional<ReadTransaction::StoredTransaction>>
  FindTransaction(absl::string_view data_source_uuid,
                  absl::string_view external_id) override;
  absl::StatusOr<SubscriptionRef> GetSubscription(
      absl::string_view uuid) override;
  absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
      absl::string_view data_source_uuid,
      absl::string_view external_id) override;
  absl::StatusOr<Page<SubscriptionEvent>> ListEvents(
      const EventFilter& filter, const PageRequest& page) override;
  absl::StatusOr<Page<MrrMovementRow>> ListMrrMovements(
      const MrrMovementFilter& filter, const PageRequest& page) override;
  absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrr(
      absl::string_view data_source_uuid,
      absl::Span<const absl::Time> bounds) override;
  absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> CustomersMrrAt(
      absl::Span<const std::string> customer_uuids, absl::Time t) override;
  absl::StatusOr<std::vector<ChangeRow>> ReadChanges(int64_t after,
                                                     int limit) override;
  absl::StatusOr<std::vector<ChangeRow>> ReadChangesOfKinds(
      int64_t after, int limit, absl::Span<const ChangeKind> kinds) override;
  absl::StatusOr<int64_t> LastChangeSequence() override;
  absl::StatusOr<StorageStats> ReadStorageStats() override;

 protected:
  explicit ConnectionReads(ConnectionLease lease) : lease_(std::move(lease)) {}
  ~ConnectionReads() override = default;

  // Runs `begin` (e.g. "BEGIN ISOLATION LEVEL ...").
  absl::Status Start(const char* begin);
  // The connection while the transaction is usable.
  absl::StatusOr<Connection*> Active();
  // Commits and ends the lease (finished whether the commit succeeded or
  // not; a failed commit rolled back).
  absl::Status CommitAndRelease();
  // A scan of the source on this transaction's connection and snapshot
  // (SourceScanner::ReadAhead::kYes only if nothing else uses it until the
  // scan ends).
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanHere(
      absl::string_view data_source_uuid,
      SourceScanner::ReadAhead read_ahead);

 private:
  ConnectionLease lease_;  // rolled back, if still open, when returned
  bool active_ = false;
};

class PostgresReadTransaction final : public ConnectionReads<ReadTransaction> {
 public:
  // Begins a REPEATABLE READ READ ONLY transaction on `connection`; if
  // `snapshot` is set, it reads that exported snapshot.
  static absl::StatusOr<std::unique_ptr<PostgresReadTransaction>> Begin(
      ConnectionLease connection, const std::string& snapshot = "");

  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view data_source_uuid) override;
  // ScanSource() for a transaction that nothing else uses until the scan
  // ends: the scan reads its next page ahead on this connection.
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSourceReadingAhead(
      absl::string_view data_source_uuid);

 private:
  explicit PostgresReadTransaction(ConnectionLease connection)
      : ConnectionReads(std::move(connection)) {}
};

class PostgresWriteTransaction final
    : public ConnectionReads<WriteTransaction> {
 public:
  // Begins a READ COMMITTED transaction on `connection`. ScanSource opens
  // its connection with `pool` (not owned; must outlive the transaction).
  // Keeps up to `change_rows_in_memory` appended change rows in memory,
  // the rest in a temporary table (PendingChanges).
  static absl::StatusOr<std::unique_ptr<WriteTransaction>> Begin(
      ConnectionLease connection, ConnectionPool* pool,
      size_t change_rows_in_memory);

  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view data_source_uuid) override;

  absl::Status LockSources(
      absl::Span<const std::string> data_source_uuids) override;
  absl::Status LockCustomerSources(
      absl::Span<const std::string> customer_uuids) override;
  absl::Status LockSourceWithItsCustomers(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<bool> TryLockCustomerSources(
      absl::Span<const std::string> customer_uuids) override;
  absl::StatusOr<std::vector<std::string>> ClaimDueCustomers(
      absl::Time now, int limit) override;
  absl::Status InsertDataSource(const DataSourceRow& source) override;
  absl::StatusOr<std::vector<std::string>> DeleteDataSource(
      absl::string_view uuid) override;
  absl::Status InsertSettingsVersion(const SettingsRow& settings) override;
  absl::Status InsertCustomer(const Customer& customer) override;
  absl::Status UpdateCustomer(absl::string_view uuid,
                              const CustomerFields& fields,
                              const std::vector<std::string>& tags,
                              absl::Time updated_at) override;
  absl::Status DeleteCustomer(absl::string_view uuid) override;
  absl::Status MoveCustomerRows(absl::string_view from_uuid,
                                absl::string_view into_uuid) override;
  absl::Status InsertInvoices(absl::string_view customer_uuid,
                              absl::Span<const Invoice> invoices) override;
  absl::Status DeleteInvoice(absl::string_view uuid) override;
  absl::Status InsertTransaction(absl::string_view invoice_uuid,
                                 const Transaction& transaction) override;
  absl::Status InsertSubscriptions(
      absl::Span<const SubscriptionRef> subscriptions) override;
  absl::Status DeleteSubscriptions(
      absl::Span<const std::string> uuids) override;
  absl::StatusOr<bool> InsertCancellation(absl::string_view subscription_uuid,
                                          absl::Time cancelled_at,
                                          absl::Time recorded_at) override;
  absl::Status WriteEvaluation(const EvaluationWrite& write) override;
  // Kept until Commit (see the file comment).
  absl::Status AppendChanges(absl::Span<const ChangeRow> rows) override;
  absl::StatusOr<int64_t> PruneChanges(absl::Time before, int limit) override;
  absl::Status Savepoint() override;
  // Also forgets the change rows kept and the locks taken since the
  // savepoint (PostgreSQL releases the locks of a rolled-back savepoint).
  absl::Status RollbackToSavepoint() override;
  absl::Status ReleaseSavepoint() override;
  // Applies the pending MRR rollups first (postgres_mrr.h), so the sums
  // include this transaction's rows.
  absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrr(
      absl::string_view data_source_uuid,
      absl::Span<const absl::Time> bounds) override;
  // Rebuilds the facts blobs it made stale, applies the pending MRR
  // rollups, appends the kept change rows, commits, and returns the
  // connection.
  absl::Status Commit() override;

 private:
  PostgresWriteTransaction(ConnectionLease connection, ConnectionPool* pool,
                           size_t change_rows_in_memory)
      : ConnectionReads(std::move(connection)),
        pool_(pool),
        changes_(change_rows_in_memory) {}

  enum class Wait { kYes, kNo };
  // Locks the sources with these uuids not locked yet; without waiting,
  // false if another transaction holds one.
  absl::StatusOr<bool> LockUuids(std::vector<std::string> uuids, Wait wait);
  // Locks the sources `stmt` reads (one uuid per row), reading them again
  // after locking until no new one appears: a merge committed meanwhile may
  // have added one. False if LockUuids was; UNAVAILABLE with `busy` if the
  // sources keep changing.
  absl::StatusOr<bool> LockSourcesReadBy(Statement& stmt, Wait wait,
                                         absl::string_view busy);
  absl::StatusOr<bool> LockSourcesOfCustomers(
      absl::Span<const std::string> customer_uuids, Wait wait);

  ConnectionPool* const pool_;
  std::vector<std::string> locked_;  // source uuids, sorted
  PendingChanges changes_;           // appended at Commit
  // At the savepoint, if one is set: locked_ and changes_.size().
  struct SavedState {
    std::vector<std::string> locked;
    size_t changes = 0;
  };
  std::optional<SavedState> savepoint_;
};

extern template class ConnectionReads<ReadTransaction>;
extern template class ConnectionReads<WriteTransaction>;

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_TRANSACTIONS_H_
