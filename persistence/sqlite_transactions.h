// SqliteBackend's transactions (persistence/backend.h): a read transaction
// is a deferred SQLite transaction on a leased reader (or on a connection
// of its own); a write transaction is a BEGIN IMMEDIATE transaction on the
// leased writer. Both roll back when destroyed uncommitted, then end their
// lease.
//
// Internal to SqliteBackend (sqlite_backend.h), which makes them; callers
// see only the interfaces.
#ifndef RECURRENT_PERSISTENCE_SQLITE_TRANSACTIONS_H_
#define RECURRENT_PERSISTENCE_SQLITE_TRANSACTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_connection_pool.h"
#include "persistence/sqlite_file_watch.h"
#include "persistence/sqlite_scoped_transaction.h"

namespace recurrent::persistence::sqlite {

// Every read of ReadTransaction but ScanSource, on the leased connection
// inside its SQLite transaction; shared by both kinds of transaction
// (`Interface` is ReadTransaction or WriteTransaction). After the
// transaction has ended (a write transaction's Commit, or a rollback by
// SQLite after an error), every method fails with kInternal.
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
  explicit ConnectionReads(ConnectionLease lease);
  ~ConnectionReads() override = default;

  // Begins the SQLite transaction.
  absl::Status Start(ScopedTransaction::Kind kind) { return txn_.Begin(kind); }
  // The connection while the transaction is active; kInternal once it has
  // ended.
  absl::StatusOr<Connection*> Active();
  // Commits and ends the lease (the transaction is then finished, whether
  // the commit succeeded or not).
  absl::Status CommitAndRelease();
  // A scan of the source on this transaction's connection and snapshot.
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanHere(
      absl::string_view data_source_uuid);

 private:
  // Declared in this order: the transaction rolls back before the lease
  // ends.
  ConnectionLease lease_;
  ScopedTransaction txn_;
  // The keys of the customers the last ListCustomers returned (a customer's
  // key never changes), so that CustomersMrrAt of that page reads their MRR
  // rows without looking each uuid up again.
  absl::flat_hash_map<std::string, int64_t> listed_keys_;
};

class SqliteReadTransaction final : public ConnectionReads<ReadTransaction> {
 public:
  // Begins a deferred transaction (its snapshot is taken at its first read)
  // on `connection`, held until the transaction is destroyed.
  static absl::StatusOr<std::unique_ptr<ReadTransaction>> Begin(
      ConnectionLease connection);

  // Scans on this transaction's connection: its snapshot.
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view data_source_uuid) override;

 private:
  explicit SqliteReadTransaction(ConnectionLease connection)
      : ConnectionReads(std::move(connection)) {}
};

class SqliteWriteTransaction final : public ConnectionReads<WriteTransaction> {
 public:
  // Opens a new read-only connection to the database (for ScanSource).
  using ConnectionOpener =
      std::function<absl::StatusOr<std::unique_ptr<Connection>>()>;

  // Begins a BEGIN IMMEDIATE transaction on `writer`, the process's only
  // writing connection (so holding its lease serializes this process's
  // writes, and SQLite's write lock those of every process). kUnavailable
  // if the database stays locked by another process.
  // Commit() first checks `watch` (not owned; it must outlive the
  // transaction): nothing is committed into a file its path no longer names.
  static absl::StatusOr<std::unique_ptr<WriteTransaction>> Begin(
      ConnectionLease writer, ConnectionOpener open_scan_connection,
      FileWatch* watch);

  // Reads the committed state at the start of this transaction, on a new
  // read-only connection that the returned scan owns (see the .cc).
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
  absl::Status AppendChanges(absl::Span<const ChangeRow> rows) override;
  absl::StatusOr<int64_t> PruneChanges(absl::Time before, int limit) override;
  absl::Status Savepoint() override;
  absl::Status RollbackToSavepoint() override;
  absl::Status ReleaseSavepoint() override;
  // Commits, then returns the writer to the backend at once.
  absl::Status Commit() override;

 private:
  SqliteWriteTransaction(ConnectionLease writer,
                         ConnectionOpener open_scan_connection,
                         FileWatch* watch)
      : ConnectionReads(std::move(writer)),
        open_scan_connection_(std::move(open_scan_connection)),
        watch_(watch) {}

  const ConnectionOpener open_scan_connection_;
  FileWatch* const watch_;
};

extern template class ConnectionReads<ReadTransaction>;
extern template class ConnectionReads<WriteTransaction>;

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_TRANSACTIONS_H_
