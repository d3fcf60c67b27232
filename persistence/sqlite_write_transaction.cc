// SqliteWriteTransaction.
#include <limits>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "persistence/sqlite_change_log.h"
#include "persistence/sqlite_customer_state.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_invoices.h"
#include "persistence/sqlite_subscriptions.h"
#include "persistence/sqlite_transactions.h"

namespace recurrent::persistence::sqlite {
namespace {

// A scan that owns the read transaction (and so the connection) it reads.
class SnapshotScan final : public SourceScan {
 public:
  SnapshotScan(std::unique_ptr<ReadTransaction> snapshot,
               std::unique_ptr<SourceScan> scan)
      : snapshot_(std::move(snapshot)), scan_(std::move(scan)) {}

  absl::StatusOr<bool> Next(CustomerState& state) override {
    return scan_->Next(state);
  }
  int64_t rows_scanned() const override { return scan_->rows_scanned(); }

 private:
  // Declared in this order: the scan's statements end before the
  // transaction and its connection.
  std::unique_ptr<ReadTransaction> snapshot_;
  std::unique_ptr<SourceScan> scan_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WriteTransaction>> SqliteWriteTransaction::Begin(
    ConnectionLease writer, ConnectionOpener open_scan_connection,
    FileWatch* watch) {
  std::unique_ptr<SqliteWriteTransaction> txn(new SqliteWriteTransaction(
      std::move(writer), std::move(open_scan_connection), watch));
  RECURRENT_RETURN_IF_ERROR(txn->Start(ScopedTransaction::Kind::kImmediate));
  return std::unique_ptr<WriteTransaction>(std::move(txn));
}

absl::StatusOr<std::unique_ptr<SourceScan>> SqliteWriteTransaction::ScanSource(
    absl::string_view data_source_uuid) {
  RECURRENT_RETURN_IF_ERROR(Active().status());
  // This transaction holds SQLite's write lock (BEGIN IMMEDIATE), so no
  // connection of any process can commit until it ends: the committed state
  // is still the one it started from, whatever it has written since (its
  // writes are uncommitted, invisible to other connections). A new
  // connection whose first read happens now, before this returns, pins
  // exactly that state for the scan's life, and may be read on another
  // thread while this transaction keeps writing on the writer.
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                             open_scan_connection_());
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<ReadTransaction> snapshot,
      SqliteReadTransaction::Begin(OwnedLease(std::move(connection))));
  // Its first read (the source's key) pins the snapshot.
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScan> scan,
                             snapshot->ScanSource(data_source_uuid));
  return std::unique_ptr<SourceScan>(
      new SnapshotScan(std::move(snapshot), std::move(scan)));
}

// SQLite serializes write transactions: BEGIN IMMEDIATE takes the database's
// single write lock, so holding a write transaction is holding the lock of
// every source (contract point 3) and there is nothing more to lock.
absl::Status SqliteWriteTransaction::LockSources(
    absl::Span<const std::string> data_source_uuids) {
  return Active().status();
}

absl::Status SqliteWriteTransaction::LockCustomerSources(
    absl::Span<const std::string> customer_uuids) {
  return Active().status();  // see LockSources
}

absl::Status SqliteWriteTransaction::LockSourceWithItsCustomers(
    absl::string_view data_source_uuid) {
  return Active().status();  // see LockSources
}

absl::StatusOr<bool> SqliteWriteTransaction::TryLockCustomerSources(
    absl::Span<const std::string> customer_uuids) {
  RECURRENT_RETURN_IF_ERROR(Active().status());  // see LockSources
  return true;
}

absl::StatusOr<std::vector<std::string>>
SqliteWriteTransaction::ClaimDueCustomers(absl::Time now, int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  // Only one write transaction runs at a time (across processes too), so
  // the customers it finds are claimed by it alone until it ends (contract
  // point 4).
  return FindDueCustomers(*db, now, limit);
}

absl::Status SqliteWriteTransaction::InsertDataSource(
    const DataSourceRow& source) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertDataSource(*db, source);
}

absl::StatusOr<std::vector<std::string>>
SqliteWriteTransaction::DeleteDataSource(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteDataSourceRows(*db, uuid);
}

absl::Status SqliteWriteTransaction::InsertSettingsVersion(
    const SettingsRow& settings) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertSettingsVersion(*db, settings);
}

absl::Status SqliteWriteTransaction::InsertCustomer(const Customer& customer) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertCustomer(*db, customer);
}

absl::Status SqliteWriteTransaction::UpdateCustomer(
    absl::string_view uuid, const CustomerFields& fields,
    const std::vector<std::string>& tags, absl::Time updated_at) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return UpdateCustomerRow(*db, uuid, fields, tags, updated_at);
}

absl::Status SqliteWriteTransaction::DeleteCustomer(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteCustomerRow(*db, uuid);
}

absl::Status SqliteWriteTransaction::MoveCustomerRows(
    absl::string_view from_uuid, absl::string_view into_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::MoveCustomerRows(*db, from_uuid, into_uuid);
}

absl::Status SqliteWriteTransaction::InsertInvoices(
    absl::string_view customer_uuid, absl::Span<const Invoice> invoices) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertInvoices(*db, customer_uuid, invoices);
}

absl::Status SqliteWriteTransaction::DeleteInvoice(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteInvoiceRow(*db, uuid);
}

absl::Status SqliteWriteTransaction::InsertTransaction(
    absl::string_view invoice_uuid, const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertTransaction(*db, invoice_uuid, transaction);
}

absl::Status SqliteWriteTransaction::InsertSubscriptions(
    absl::Span<const SubscriptionRef> subscriptions) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertSubscriptions(*db, subscriptions);
}

absl::Status SqliteWriteTransaction::DeleteSubscriptions(
    absl::Span<const std::string> uuids) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::DeleteSubscriptions(*db, uuids);
}

absl::StatusOr<bool> SqliteWriteTransaction::InsertCancellation(
    absl::string_view subscription_uuid, absl::Time cancelled_at,
    absl::Time recorded_at) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::InsertCancellation(*db, subscription_uuid, cancelled_at,
                                    recorded_at);
}

absl::Status SqliteWriteTransaction::WriteEvaluation(
    const EvaluationWrite& write) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::WriteEvaluation(*db, write);
}

absl::Status SqliteWriteTransaction::AppendChanges(
    absl::Span<const ChangeRow> rows) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::AppendChanges(*db, rows);
}

absl::StatusOr<int64_t> SqliteWriteTransaction::PruneChanges(absl::Time before,
                                                             int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::PruneChanges(*db, before, limit);
}

// SQLite's savepoints nest; the backend uses one, named "request".
absl::Status SqliteWriteTransaction::Savepoint() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return db->Execute("SAVEPOINT request");
}

absl::Status SqliteWriteTransaction::RollbackToSavepoint() {
  // Active() fails if SQLite rolled the whole transaction back after an
  // error: the savepoint is gone with it.
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  // ROLLBACK TO keeps the savepoint on SQLite's stack; RELEASE drops it.
  return db->Execute("ROLLBACK TO request; RELEASE request");
}

absl::Status SqliteWriteTransaction::ReleaseSavepoint() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return db->Execute("RELEASE request");
}

absl::Status SqliteWriteTransaction::Commit() {
  // Destroyed uncommitted, the transaction rolls back.
  {
    RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
    // The blobs of the customers this transaction's writes made stale.
    RECURRENT_RETURN_IF_ERROR(
        RebuildStaleCustomerFacts(*db, std::numeric_limits<int64_t>::max())
            .status());
  }
  // Last before the COMMIT (the rebuild above may take a while after a
  // reprocess): a file deleted or replaced by then gets no acknowledged
  // write.
  RECURRENT_RETURN_IF_ERROR(watch_->Check());
  return CommitAndRelease();
}

}  // namespace recurrent::persistence::sqlite
