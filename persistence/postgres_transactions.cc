// ConnectionReads, PostgresReadTransaction and PostgresWriteTransaction.
#include "persistence/postgres_transactions.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/change_log_columns.h"
#include "persistence/postgres_change_log.h"
#include "persistence/postgres_customer_state.h"
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/postgres_events.h"
#include "persistence/postgres_invoices.h"
#include "persistence/postgres_mrr.h"
#include "persistence/postgres_schema.h"
#include "persistence/postgres_source_scan.h"
#include "persistence/postgres_subscriptions.h"
#include "persistence/storage_stats.h"

namespace recurrent::persistence::postgres {
namespace {

// How long a write waits for a data source's lock, e.g. behind a settings
// change on another replica, before it fails with DATABASE_BUSY: a write
// thread is not held for the length of someone else's reprocess, and the
// caller gets an answer that says nothing was done (rather than its
// deadline, which would not say).
constexpr char kSourceLockWait[] = "5s";

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
  // Declared in this order: the scan ends before its transaction.
  std::unique_ptr<ReadTransaction> snapshot_;
  std::unique_ptr<SourceScan> scan_;
};

}  // namespace

template <typename Interface>
absl::Status ConnectionReads<Interface>::Start(const char* begin) {
  RECURRENT_RETURN_IF_ERROR(lease_->Execute(begin));
  active_ = true;
  return absl::OkStatus();
}

template <typename Interface>
absl::StatusOr<Connection*> ConnectionReads<Interface>::Active() {
  if (lease_ == nullptr || !active_) {
    return absl::InternalError("transaction used after it ended");
  }
  if (lease_->Broken()) {
    return common::WithReason(
        absl::UnavailableError("the database cannot be reached; retry"),
        common::reason::kDatabaseUnavailable);
  }
  return lease_.get();
}

template <typename Interface>
absl::Status ConnectionReads<Interface>::CommitAndRelease() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  active_ = false;
  absl::Status status;
  if (db->TransactionFailed()) {
    status = absl::InternalError("commit of a transaction that failed");
  } else {
    status = db->Execute("COMMIT");
  }
  lease_.reset();  // rolls back if COMMIT did not run
  return status;
}

template <typename Interface>
absl::StatusOr<std::unique_ptr<SourceScan>>
ConnectionReads<Interface>::ScanHere(absl::string_view data_source_uuid,
                                     SourceScanner::ReadAhead read_ahead) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  RECURRENT_ASSIGN_OR_RETURN(const int64_t source_key,
                             FindDataSourceKey(*db, data_source_uuid));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScanner> scan,
                             SourceScanner::Start(*db, source_key, read_ahead));
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
  return LoadCustomerPage(*db, filter, page);
}

template <typename Interface>
absl::StatusOr<CustomerState> ConnectionReads<Interface>::LoadCustomerState(
    absl::string_view uuid, bool with_events) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::LoadCustomerState(*db, uuid, with_events);
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
  return postgres::FindInvoice(*db, data_source_uuid, external_id);
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
  return postgres::FindTransaction(*db, data_source_uuid, external_id);
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
  return postgres::FindSubscription(*db, data_source_uuid, external_id);
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
  return LoadCustomersMrrAt(*db, customer_uuids, t);
}

template <typename Interface>
absl::StatusOr<std::vector<ChangeRow>> ConnectionReads<Interface>::ReadChanges(
    int64_t after, int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::ReadChanges(*db, after, limit);
}

template <typename Interface>
absl::StatusOr<std::vector<ChangeRow>>
ConnectionReads<Interface>::ReadChangesOfKinds(
    int64_t after, int limit, absl::Span<const ChangeKind> kinds) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::ReadChanges(*db, after, limit, ChangeKindCodeMask(kinds));
}

template <typename Interface>
absl::StatusOr<int64_t> ConnectionReads<Interface>::LastChangeSequence() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::LastChangeSequence(*db);
}

template <typename Interface>
absl::StatusOr<StorageStats> ConnectionReads<Interface>::ReadStorageStats() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return persistence::ReadStorageStats(
      *db, "SELECT pg_database_size(current_database())");
}

template class ConnectionReads<ReadTransaction>;
template class ConnectionReads<WriteTransaction>;

// ---- PostgresReadTransaction --------------------------------------------------

absl::StatusOr<std::unique_ptr<PostgresReadTransaction>>
PostgresReadTransaction::Begin(ConnectionLease connection,
                               const std::string& snapshot) {
  std::unique_ptr<PostgresReadTransaction> txn(
      new PostgresReadTransaction(std::move(connection)));
  RECURRENT_RETURN_IF_ERROR(
      txn->Start("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  if (!snapshot.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(Connection * db, txn->Active());
    // SET TRANSACTION SNAPSHOT takes no parameters; the id comes from
    // pg_export_snapshot() (hex digits and dashes), checked here anyway.
    for (const char c : snapshot) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') {
        return absl::InternalError("malformed snapshot id");
      }
    }
    RECURRENT_RETURN_IF_ERROR(db->Execute(
        absl::StrCat("SET TRANSACTION SNAPSHOT '", snapshot, "'").c_str()));
  }
  return txn;
}

absl::StatusOr<std::unique_ptr<SourceScan>> PostgresReadTransaction::ScanSource(
    absl::string_view data_source_uuid) {
  // The caller may use this transaction between the scan's calls.
  return ScanHere(data_source_uuid, SourceScanner::ReadAhead::kNo);
}

absl::StatusOr<std::unique_ptr<SourceScan>>
PostgresReadTransaction::ScanSourceReadingAhead(
    absl::string_view data_source_uuid) {
  return ScanHere(data_source_uuid, SourceScanner::ReadAhead::kYes);
}

// ---- PostgresWriteTransaction -------------------------------------------------

absl::StatusOr<std::unique_ptr<WriteTransaction>>
PostgresWriteTransaction::Begin(ConnectionLease connection,
                                ConnectionPool* pool,
                                size_t change_rows_in_memory) {
  std::unique_ptr<PostgresWriteTransaction> txn(new PostgresWriteTransaction(
      std::move(connection), pool, change_rows_in_memory));
  RECURRENT_RETURN_IF_ERROR(
      txn->Start("BEGIN ISOLATION LEVEL READ COMMITTED"));
  return std::unique_ptr<WriteTransaction>(std::move(txn));
}

absl::StatusOr<std::unique_ptr<SourceScan>>
PostgresWriteTransaction::ScanSource(absl::string_view data_source_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  // The caller holds the source's lock, so no other write to it can commit
  // until this transaction ends: the snapshot exported now is the state
  // this transaction's writes replace. The scan reads it on a connection
  // of its own (it runs on another thread while this one writes); the
  // export stays valid while this transaction is open, which the scan
  // does not outlive.
  std::string snapshot;
  {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                               db->Prepare("SELECT pg_export_snapshot()"));
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) return absl::InternalError("no snapshot exported");
    snapshot = stmt.ColumnText(0);
  }
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                             pool_->OpenUnpooled());
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<PostgresReadTransaction> reader,
      PostgresReadTransaction::Begin(OwnedLease(std::move(connection)),
                                     snapshot));
  // Nothing but the scan uses that connection.
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScan> scan,
                             reader->ScanSourceReadingAhead(data_source_uuid));
  return std::unique_ptr<SourceScan>(
      new SnapshotScan(std::move(reader), std::move(scan)));
}

absl::StatusOr<bool> PostgresWriteTransaction::LockUuids(
    std::vector<std::string> uuids, Wait wait) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  std::sort(uuids.begin(), uuids.end());
  uuids.erase(std::unique(uuids.begin(), uuids.end()), uuids.end());
  std::vector<std::string> fresh;
  std::set_difference(uuids.begin(), uuids.end(), locked_.begin(),
                      locked_.end(), std::back_inserter(fresh));
  if (fresh.empty()) return true;
  // Waiting: in one order (the hash's), so that two transactions locking the
  // same sources in one call never wait for each other in a cycle. Not
  // waiting: every try runs (bool_and does not stop early), and a lock
  // taken stays held until the transaction ends even if another was busy.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare(wait == Wait::kYes
                      ? "SELECT pg_advisory_xact_lock($1::int, h) FROM ("
                        " SELECT DISTINCT hashtext(u) AS h"
                        " FROM unnest($2::text[]) AS u ORDER BY 1) AS keys"
                      : "SELECT bool_and(pg_try_advisory_xact_lock($1::int,"
                        " h))::int FROM (SELECT DISTINCT hashtext(u) AS h"
                        " FROM unnest($2::text[]) AS u) AS keys"));
  stmt.BindInt64(1, kLockClassSource);
  stmt.BindTextArray(2, fresh);
  if (wait == Wait::kYes) {
    RECURRENT_RETURN_IF_ERROR(db->Execute(
        absl::StrCat("SET LOCAL lock_timeout = '", kSourceLockWait, "'")
            .c_str()));
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
    // Back to the session's own (the role's, the database's or the URI's).
    RECURRENT_RETURN_IF_ERROR(db->Execute("SET LOCAL lock_timeout TO DEFAULT"));
  } else {
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found || stmt.ColumnInt64(0) != 1) return false;
  }
  std::vector<std::string> merged;
  std::merge(locked_.begin(), locked_.end(), fresh.begin(), fresh.end(),
             std::back_inserter(merged));
  locked_ = std::move(merged);
  return true;
}

absl::StatusOr<bool> PostgresWriteTransaction::LockSourcesReadBy(
    Statement& stmt, Wait wait, absl::string_view busy) {
  for (int round = 0; round < 4; ++round) {
    stmt.Reset();
    std::vector<std::string> sources;
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
      if (!found) break;
      sources.push_back(stmt.ColumnText(0));
    }
    const size_t before = locked_.size();
    RECURRENT_ASSIGN_OR_RETURN(const bool locked,
                               LockUuids(std::move(sources), wait));
    if (!locked) return false;
    if (locked_.size() == before) return true;
  }
  return common::WithReason(absl::UnavailableError(busy),
                            common::reason::kCustomerBeingMerged);
}

absl::Status PostgresWriteTransaction::LockSources(
    absl::Span<const std::string> data_source_uuids) {
  return LockUuids(std::vector<std::string>(data_source_uuids.begin(),
                                            data_source_uuids.end()),
                   Wait::kYes)
      .status();
}

absl::StatusOr<bool> PostgresWriteTransaction::LockSourcesOfCustomers(
    absl::Span<const std::string> customer_uuids, Wait wait) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare("SELECT DISTINCT d.uuid FROM customers c"
                  " JOIN customer_external_ids e ON e.customer_id = c.id"
                  " JOIN data_sources d ON d.id = e.data_source_id"
                  " WHERE c.uuid = ANY($1::text[])"));
  stmt.BindTextArray(1, std::vector<std::string>(customer_uuids.begin(),
                                                 customer_uuids.end()));
  return LockSourcesReadBy(stmt, wait, "the customer is being merged; retry");
}

absl::Status PostgresWriteTransaction::LockCustomerSources(
    absl::Span<const std::string> customer_uuids) {
  return LockSourcesOfCustomers(customer_uuids, Wait::kYes).status();
}

absl::StatusOr<bool> PostgresWriteTransaction::TryLockCustomerSources(
    absl::Span<const std::string> customer_uuids) {
  return LockSourcesOfCustomers(customer_uuids, Wait::kNo);
}

absl::Status PostgresWriteTransaction::LockSourceWithItsCustomers(
    absl::string_view data_source_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  // The source, and the other sources of its customers (merged ones): all
  // locked in one call, then read again under the source's lock, after
  // which no merge can give its customers another source.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare("SELECT $1::text UNION SELECT DISTINCT d.uuid"
                  " FROM customer_external_ids e"
                  " JOIN customer_external_ids o"
                  " ON o.customer_id = e.customer_id"
                  " AND o.data_source_id <> e.data_source_id"
                  " JOIN data_sources d ON d.id = o.data_source_id"
                  " WHERE e.data_source_id ="
                  " (SELECT id FROM data_sources WHERE uuid = $1::text)"));
  stmt.BindText(1, data_source_uuid);
  return LockSourcesReadBy(stmt, Wait::kYes,
                           "the source's customers are being merged; retry")
      .status();
}

absl::StatusOr<std::vector<std::string>>
PostgresWriteTransaction::ClaimDueCustomers(absl::Time now, int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  std::vector<int64_t> keys;
  {
    // Earliest first, skipping the customers another transaction holds; a
    // try-lock never waits. LIMIT stops the scan, so no lock is taken on a
    // row that is not returned.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db->Prepare("SELECT id FROM (SELECT id, uuid FROM customers"
                    "  WHERE next_transition_at <= $1::bigint"
                    "  ORDER BY next_transition_at, id) AS due"
                    " WHERE pg_try_advisory_xact_lock($2::int, hashtext(uuid))"
                    " LIMIT $3::bigint"));
    stmt.BindTime(1, now);
    stmt.BindInt64(2, kLockClassCustomer);
    stmt.BindInt64(3, limit);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
      if (!found) break;
      keys.push_back(stmt.ColumnInt64(0));
    }
  }
  std::vector<std::string> claimed;
  if (keys.empty()) return claimed;
  // A fresh read under the locks: a customer that another replica
  // re-evaluated and committed just before this one's try-lock is due no
  // more.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db->Prepare("SELECT uuid FROM customers WHERE id = ANY($1::bigint[])"
                  " AND next_transition_at <= $2::bigint"
                  " ORDER BY next_transition_at, id"));
  stmt.BindInt64Array(1, keys);
  stmt.BindTime(2, now);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) break;
    claimed.push_back(stmt.ColumnText(0));
  }
  return claimed;
}

absl::Status PostgresWriteTransaction::InsertDataSource(
    const DataSourceRow& source) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertDataSource(*db, source);
}

absl::StatusOr<std::vector<std::string>>
PostgresWriteTransaction::DeleteDataSource(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteDataSourceRows(*db, uuid);
}

absl::Status PostgresWriteTransaction::InsertSettingsVersion(
    const SettingsRow& settings) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertSettingsVersion(*db, settings);
}

absl::Status PostgresWriteTransaction::InsertCustomer(const Customer& customer) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertCustomer(*db, customer);
}

absl::Status PostgresWriteTransaction::UpdateCustomer(
    absl::string_view uuid, const CustomerFields& fields,
    const std::vector<std::string>& tags, absl::Time updated_at) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return UpdateCustomerRow(*db, uuid, fields, tags, updated_at);
}

absl::Status PostgresWriteTransaction::DeleteCustomer(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteCustomerRow(*db, uuid);
}

absl::Status PostgresWriteTransaction::MoveCustomerRows(
    absl::string_view from_uuid, absl::string_view into_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::MoveCustomerRows(*db, from_uuid, into_uuid);
}

absl::Status PostgresWriteTransaction::InsertInvoices(
    absl::string_view customer_uuid, absl::Span<const Invoice> invoices) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertInvoices(*db, customer_uuid, invoices);
}

absl::Status PostgresWriteTransaction::DeleteInvoice(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return DeleteInvoiceRow(*db, uuid);
}

absl::Status PostgresWriteTransaction::InsertTransaction(
    absl::string_view invoice_uuid, const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertTransaction(*db, invoice_uuid, transaction);
}

absl::Status PostgresWriteTransaction::InsertSubscriptions(
    absl::Span<const SubscriptionRef> subscriptions) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertSubscriptions(*db, subscriptions);
}

absl::Status PostgresWriteTransaction::DeleteSubscriptions(
    absl::Span<const std::string> uuids) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::DeleteSubscriptions(*db, uuids);
}

absl::StatusOr<bool> PostgresWriteTransaction::InsertCancellation(
    absl::string_view subscription_uuid, absl::Time cancelled_at,
    absl::Time recorded_at) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::InsertCancellation(*db, subscription_uuid, cancelled_at,
                                    recorded_at);
}

absl::Status PostgresWriteTransaction::WriteEvaluation(
    const EvaluationWrite& write) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::WriteEvaluation(*db, write);
}

absl::Status PostgresWriteTransaction::AppendChanges(
    absl::Span<const ChangeRow> rows) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return changes_.Add(*db, rows);
}

absl::StatusOr<int64_t> PostgresWriteTransaction::PruneChanges(
    absl::Time before, int limit) {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  return postgres::PruneChanges(*db, before, limit);
}

absl::Status PostgresWriteTransaction::Savepoint() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  if (savepoint_.has_value()) {
    return absl::InternalError("a savepoint is set already");
  }
  RECURRENT_RETURN_IF_ERROR(changes_.BeforeSavepoint(*db));
  RECURRENT_RETURN_IF_ERROR(db->Execute("SAVEPOINT request"));
  savepoint_ = SavedState{locked_, changes_.size()};
  return absl::OkStatus();
}

absl::Status PostgresWriteTransaction::RollbackToSavepoint() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  if (!savepoint_.has_value()) return absl::InternalError("no savepoint");
  // Valid in a transaction that a failed statement aborted: it is the way
  // back.
  RECURRENT_RETURN_IF_ERROR(db->Execute(
      "ROLLBACK TO SAVEPOINT request; RELEASE SAVEPOINT request"));
  locked_ = std::move(savepoint_->locked);
  changes_.RolledBack(savepoint_->changes);
  savepoint_.reset();
  return absl::OkStatus();
}

absl::Status PostgresWriteTransaction::ReleaseSavepoint() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  if (!savepoint_.has_value()) return absl::InternalError("no savepoint");
  RECURRENT_RETURN_IF_ERROR(db->Execute("RELEASE SAVEPOINT request"));
  savepoint_.reset();
  return absl::OkStatus();
}

absl::Status PostgresWriteTransaction::Commit() {
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  // The blobs of the customers this transaction's writes made stale.
  RECURRENT_RETURN_IF_ERROR(RebuildAllStaleCustomerFacts(*db));
  // The rollup rows stay locked only for the rest of the commit.
  RECURRENT_RETURN_IF_ERROR(ApplyPendingRollups(*db));
  // Last: appending takes the log's head row, which every replica's commit
  // needs, so it is held only for the append and the COMMIT.
  RECURRENT_RETURN_IF_ERROR(changes_.Append(*db));
  // The statements before the COMMIT ran, so a lost connection now was
  // lost with the COMMIT sent or being sent. A caller told "retry" could
  // apply the write twice.
  return CommitStatus(CommitAndRelease());
}

absl::StatusOr<std::vector<std::vector<MrrSums>>>
PostgresWriteTransaction::SumMrr(absl::string_view data_source_uuid,
                                 absl::Span<const absl::Time> bounds) {
  // The sums include this transaction's own rows.
  RECURRENT_ASSIGN_OR_RETURN(Connection * db, Active());
  RECURRENT_RETURN_IF_ERROR(ApplyPendingRollups(*db));
  return ConnectionReads::SumMrr(data_source_uuid, bounds);
}

}  // namespace recurrent::persistence::postgres
