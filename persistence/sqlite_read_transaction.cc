// ConnectionReads (the reads of both kinds of transaction) and
// SqliteReadTransaction.
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "persistence/change_log_columns.h"
#include "persistence/sqlite_change_log.h"
#include "persistence/sqlite_customer_state.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_events.h"
#include "persistence/sqlite_invoices.h"
#include "persistence/sqlite_mrr.h"
#include "persistence/sqlite_source_scan.h"
#include "persistence/sqlite_subscriptions.h"
#include "persistence/sqlite_transactions.h"
#include "persistence/storage_stats.h"

namespace recurrent::persistence::sqlite {

template <typename Interface>
ConnectionReads<Interface>::ConnectionReads(ConnectionLease lease)
    : lease_(std::move(lease)), txn_(*lease_) {}

template <typename Interface>
absl::StatusOr<Connection*> ConnectionReads<Interface>::Active() {
  // Using a transaction after it ended, or after SQLite rolled it back on
  // its own (e.g. on a full disk: backend.h allows only rollback after a
  // failure) is a caller's bug; refusing keeps later statements from
  // running outside any transaction.
  if (lease_ == nullptr || !txn_.active()) {
    return absl::InternalError("transaction used after it ended");
  }
  if (!lease_->InTransaction()) {
    return absl::InternalError("transaction used after it was rolled back");
  }
  return lease_.get();
}

template <typename Interface>
absl::Status ConnectionReads<Interface>::CommitAndRelease() {
  RECURRENT_RETURN_IF_ERROR(Active().status());
  const absl::Status status = txn_.Commit();  // rolls back if it fails
  lease_.reset();
  return status;
}

template <typename Interface>
absl::StatusOr<std::unique_ptr<SourceScan>>
ConnectionReads<Interface>::ScanHere(absl::string_view data_source_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  RECURRENT_ASSIGN_OR_RETURN(const int64_t source_key,
                             FindDataSourceKey(*db, data_source_uuid));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScanner> scan,
                             SourceScanner::Start(*db, source_key));
  return std::unique_ptr<SourceScan>(std::move(scan));
}

template <typename Interface>
absl::StatusOr<DataSourceRow> ConnectionReads<Interface>::GetDataSource(
    absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadDataSource(*db, uuid);
}

template <typename Interface>
absl::StatusOr<Page<DataSourceRow>> ConnectionReads<Interface>::ListDataSources(
    const PageRequest& page) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadDataSourcePage(*db, page);
}

template <typename Interface>
absl::StatusOr<std::vector<SettingsRow>>
ConnectionReads<Interface>::ListSettingsVersions(
    absl::string_view data_source_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadSettingsHistory(*db, data_source_uuid);
}

template <typename Interface>
absl::StatusOr<std::vector<SettingsRow>>
ConnectionReads<Interface>::CurrentSettings() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadAllCurrentSettings(*db);
}

template <typename Interface>
absl::StatusOr<Customer> ConnectionReads<Interface>::GetCustomer(
    absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadCustomer(*db, uuid);
}

template <typename Interface>
absl::StatusOr<Page<Customer>> ConnectionReads<Interface>::ListCustomers(
    const CustomerFilter& filter, const PageRequest& page) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  std::vector<int64_t> keys;
  RECURRENT_ASSIGN_OR_RETURN(Page<Customer> customers,
                             LoadCustomerPage(*db, filter, page, &keys));
  listed_keys_.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    listed_keys_.emplace(customers.items[i].uuid, keys[i]);
  }
  return customers;
}

template <typename Interface>
absl::StatusOr<CustomerState> ConnectionReads<Interface>::LoadCustomerState(
    absl::string_view uuid, bool with_events) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::LoadCustomerState(*db, uuid, with_events);
}

template <typename Interface>
absl::StatusOr<Invoice> ConnectionReads<Interface>::GetInvoice(
    absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadInvoice(*db, uuid);
}

template <typename Interface>
absl::StatusOr<std::optional<Invoice>> ConnectionReads<Interface>::FindInvoice(
    absl::string_view data_source_uuid, absl::string_view external_id) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::FindInvoice(*db, data_source_uuid, external_id);
}

template <typename Interface>
absl::StatusOr<Page<Invoice>> ConnectionReads<Interface>::ListInvoices(
    const InvoiceFilter& filter, const PageRequest& page) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadInvoicePage(*db, filter, page);
}

template <typename Interface>
absl::StatusOr<std::optional<ReadTransaction::StoredTransaction>>
ConnectionReads<Interface>::FindTransaction(absl::string_view data_source_uuid,
                                            absl::string_view external_id) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::FindTransaction(*db, data_source_uuid, external_id);
}

template <typename Interface>
absl::StatusOr<SubscriptionRef> ConnectionReads<Interface>::GetSubscription(
    absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadSubscription(*db, uuid);
}

template <typename Interface>
absl::StatusOr<std::optional<SubscriptionRef>>
ConnectionReads<Interface>::FindSubscription(absl::string_view data_source_uuid,
                                             absl::string_view external_id) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::FindSubscription(*db, data_source_uuid, external_id);
}

template <typename Interface>
absl::StatusOr<Page<SubscriptionEvent>> ConnectionReads<Interface>::ListEvents(
    const EventFilter& filter, const PageRequest& page) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadEventPage(*db, filter, page);
}

template <typename Interface>
absl::StatusOr<Page<MrrMovementRow>>
ConnectionReads<Interface>::ListMrrMovements(const MrrMovementFilter& filter,
                                             const PageRequest& page) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadMrrMovementPage(*db, filter, page);
}

template <typename Interface>
absl::StatusOr<std::vector<std::vector<MrrSums>>>
ConnectionReads<Interface>::SumMrr(absl::string_view data_source_uuid,
                                   absl::Span<const absl::Time> bounds) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return SumMrrRows(*db, data_source_uuid, bounds);
}

template <typename Interface>
absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>>
ConnectionReads<Interface>::CustomersMrrAt(
    absl::Span<const std::string> customer_uuids, absl::Time t) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return LoadCustomersMrrAt(*db, customer_uuids, t, listed_keys_);
}

template <typename Interface>
absl::StatusOr<std::vector<ChangeRow>> ConnectionReads<Interface>::ReadChanges(
    int64_t after, int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::ReadChanges(*db, after, limit);
}

template <typename Interface>
absl::StatusOr<std::vector<ChangeRow>>
ConnectionReads<Interface>::ReadChangesOfKinds(
    int64_t after, int limit, absl::Span<const ChangeKind> kinds) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::ReadChanges(*db, after, limit, ChangeKindCodeMask(kinds));
}

template <typename Interface>
absl::StatusOr<int64_t> ConnectionReads<Interface>::LastChangeSequence() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return sqlite::LastChangeSequence(*db);
}

template <typename Interface>
absl::StatusOr<StorageStats> ConnectionReads<Interface>::ReadStorageStats() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return persistence::ReadStorageStats(
      *db,
      "SELECT page_count * page_size FROM pragma_page_count(),"
      " pragma_page_size()");
}

template class ConnectionReads<ReadTransaction>;
template class ConnectionReads<WriteTransaction>;

absl::StatusOr<std::unique_ptr<ReadTransaction>> SqliteReadTransaction::Begin(
    ConnectionLease connection) {
  std::unique_ptr<SqliteReadTransaction> txn(
      new SqliteReadTransaction(std::move(connection)));
  RECURRENT_RETURN_IF_ERROR(txn->Start(ScopedTransaction::Kind::kDeferred));
  return std::unique_ptr<ReadTransaction>(std::move(txn));
}

absl::StatusOr<std::unique_ptr<SourceScan>> SqliteReadTransaction::ScanSource(
    absl::string_view data_source_uuid) {
  return ScanHere(data_source_uuid);
}

}  // namespace recurrent::persistence::sqlite
