#include "persistence/sqlite_storage.h"

#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_evaluation_diff.h"
#include "persistence/sqlite_events.h"
#include "persistence/sqlite_invoices.h"
#include "persistence/sqlite_recompute.h"
#include "persistence/sqlite_reprocess.h"
#include "persistence/sqlite_schema.h"
#include "persistence/sqlite_subscriptions.h"
#include "persistence/sqlite_transaction.h"

namespace recurrent::persistence {

using sqlite::Connection;

namespace {

// Creates the folder of `path` if missing; errors name the path.
absl::Status PreparePath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path file(path);
  if (fs::is_directory(file, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("database path ", path, " is a directory"));
  }
  const fs::path parent = file.parent_path();
  if (!parent.empty() && !fs::exists(parent, error)) {
    fs::create_directories(parent, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create database folder ", parent.string(), ": ",
                       error.message()));
    }
  }
  return absl::OkStatus();
}

// Makes an Open() error name the path: errors of the first statements on a
// fresh connection (e.g. "file is not a database") carry no path.
absl::Status WithPath(const absl::Status& status, const std::string& path) {
  if (status.ok()) return status;
  const absl::StatusCode code = status.code() == absl::StatusCode::kUnavailable
                                    ? absl::StatusCode::kUnavailable
                                    : absl::StatusCode::kFailedPrecondition;
  return absl::Status(
      code, absl::StrCat("cannot use database ", path, ": ", status.message()));
}

absl::Status ConfigureWriter(Connection& writer,
                             SqliteStorage::Synchronous synchronous) {
  {
    // The first statement reads the file header: a file that is not a
    // database fails here.
    RECURRENT_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                               writer.Prepare("PRAGMA journal_mode = WAL"));
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row || stmt.ColumnText(0) != "wal") {
      return absl::FailedPreconditionError("cannot switch to WAL mode");
    }
  }
  RECURRENT_RETURN_IF_ERROR(writer.Execute("PRAGMA foreign_keys = ON"));
  // FULL: each commit is fsynced (WAL included) before it is acknowledged,
  // so acknowledged writes survive a crash or power loss.
  // 64 MiB of page cache: a reprocess writes a whole source in one
  // transaction, with random-order inserts into the events' uuid index; a
  // small cache would spill dirty pages to the WAL mid-transaction.
  RECURRENT_RETURN_IF_ERROR(writer.Execute("PRAGMA cache_size = -65536"));
  RECURRENT_RETURN_IF_ERROR(
      writer.Execute(synchronous == SqliteStorage::Synchronous::kFull
                         ? "PRAGMA synchronous = FULL"
                         : "PRAGMA synchronous = NORMAL"));
  return absl::OkStatus();
}

// The engine's view of a settings version.
engine::SourceSettings ToEngine(const SourceSettings& settings) {
  engine::SourceSettings out;
  out.mode = settings.past_due_handling.mode;
  out.auto_churn_after_days = settings.past_due_handling.auto_churn_after_days;
  out.applied_at = settings.applied_at;
  return out;
}

// Version current+1 with `decision`'s content, as it will be stored (times
// in microseconds).
SourceSettings NextVersion(const SourceSettings& current,
                           const Storage::NewSettings& decision,
                           absl::Time now) {
  SourceSettings next;
  next.data_source_uuid = current.data_source_uuid;
  next.past_due_handling = decision.past_due_handling;
  next.version = current.version + 1;
  next.applied_at =
      absl::FromUnixMicros(absl::ToUnixMicros(decision.applied_at));
  next.saved_at = now;
  next.saved_by = decision.saved_by;
  return next;
}

}  // namespace

class SqliteStorage::ReaderLease {
 public:
  explicit ReaderLease(SqliteStorage& storage) : storage_(storage) {
    std::unique_lock<std::mutex> lock(storage_.readers_mu_);
    storage_.reader_returned_.wait(
        lock, [this] { return !storage_.idle_readers_.empty(); });
    connection_ = storage_.idle_readers_.back();
    storage_.idle_readers_.pop_back();
  }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  ~ReaderLease() {
    {
      std::lock_guard<std::mutex> lock(storage_.readers_mu_);
      storage_.idle_readers_.push_back(connection_);
    }
    storage_.reader_returned_.notify_one();
  }

  Connection& connection() const { return *connection_; }

 private:
  SqliteStorage& storage_;
  Connection* connection_;
};

absl::StatusOr<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(
    const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("database path is empty");
  }
  if (options.reader_pool_size < 1) {
    return absl::InvalidArgumentError("reader_pool_size must be at least 1");
  }
  RECURRENT_RETURN_IF_ERROR(PreparePath(options.path));
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(options.path, Connection::Mode::kReadWriteCreate,
                       options.busy_timeout));
  RECURRENT_RETURN_IF_ERROR(
      WithPath(ConfigureWriter(*writer, options.synchronous), options.path));
  RECURRENT_RETURN_IF_ERROR(
      WithPath(sqlite::ApplyMigrations(*writer), options.path));
  if (options.max_page_count > 0) {
    // PRAGMA takes no parameters; the value is a number.
    RECURRENT_RETURN_IF_ERROR(
        WithPath(writer->Execute(absl::StrCat("PRAGMA max_page_count = ",
                                              options.max_page_count)
                                     .c_str()),
                 options.path));
  }

  if (options.read_only) {
    // Writes then fail with SQLITE_READONLY, as on a read-only file.
    RECURRENT_RETURN_IF_ERROR(
        WithPath(writer->Execute("PRAGMA query_only = ON"), options.path));
  }

  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.reader_pool_size; ++i) {
    RECURRENT_ASSIGN_OR_RETURN(
        std::unique_ptr<Connection> reader,
        Connection::Open(options.path, Connection::Mode::kReadOnly,
                         options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteStorage>(
      new SqliteStorage(options, std::move(writer), std::move(readers)));
}

SqliteStorage::SqliteStorage(const Options& options,
                             std::unique_ptr<Connection> writer,
                             std::vector<std::unique_ptr<Connection>> readers)
    : options_(options),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {
  for (const std::unique_ptr<Connection>& reader : readers_) {
    idle_readers_.push_back(reader.get());
  }
}

SqliteStorage::~SqliteStorage() {
  // Readers close first, so the writer's close checkpoints the WAL.
  readers_.clear();
}

absl::StatusOr<std::unique_ptr<Connection>>
SqliteStorage::OpenScanConnection() {
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> db,
      Connection::Open(options_.path, Connection::Mode::kReadOnly,
                       options_.busy_timeout));
  // A larger page cache for the scans' index-then-row lookups (32 MiB).
  RECURRENT_RETURN_IF_ERROR(db->Execute("PRAGMA cache_size = -32768"));
  return db;
}

int SqliteStorage::ReprocessThreads() const {
  if (options_.reprocess_threads > 0) return options_.reprocess_threads;
  // The cores this process may run on (taskset, cgroups' cpusets), not the
  // machine's: more evaluating threads than cores only take turns.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
    return std::max(1, CPU_COUNT(&cpus));
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void SqliteStorage::SetChangeListener(ChangeListener listener) {
  change_listener_ = std::move(listener);
}

void SqliteStorage::Notify(const CustomerChanges& changes) const {
  if (change_listener_) change_listener_(changes);
}

void SqliteStorage::NotifyAll() const {
  CustomerChanges changes;
  changes.all = true;
  Notify(changes);
}

void SqliteStorage::NotifyCustomers(std::vector<std::string> uuids) const {
  CustomerChanges changes;
  changes.uuids = std::move(uuids);
  Notify(changes);
}

template <typename Fn>
auto SqliteStorage::WriteCustomers(std::vector<std::string> customers,
                                   Fn&& fn) {
  auto result = Write(std::forward<Fn>(fn));
  // Also after a failure, which changed nothing: harmless, and simpler.
  NotifyCustomers(std::move(customers));
  return result;
}

template <typename Fn>
auto SqliteStorage::Read(Fn&& fn) {
  ReaderLease lease(*this);
  sqlite::Transaction txn(lease.connection());
  using Result = std::invoke_result_t<Fn&, Connection&>;
  if (absl::Status status = txn.Begin(sqlite::Transaction::Kind::kDeferred);
      !status.ok()) {
    return Result(status);
  }
  // A read transaction only pins the snapshot; it ends with the guard.
  return Result(fn(lease.connection()));
}

template <typename Fn>
auto SqliteStorage::Write(Fn&& fn) {
  using Result = std::invoke_result_t<Fn&, Connection&>;
  std::lock_guard<std::mutex> lock(writer_mu_);
  sqlite::Transaction txn(*writer_);
  if (absl::Status status = txn.Begin(sqlite::Transaction::Kind::kImmediate);
      !status.ok()) {
    return Result(status);
  }
  Result result = fn(*writer_);
  if (!result.ok()) return result;  // the guard rolls back
  if (absl::Status status = txn.Commit(); !status.ok()) return Result(status);
  return result;
}

// ---- Data sources and settings ----------------------------------------------

absl::StatusOr<DataSource> SqliteStorage::CreateDataSource(
    absl::string_view name, absl::string_view system, absl::Time now) {
  return Write([&](Connection& db) {
    return sqlite::InsertDataSource(db, name, system, now);
  });
}

absl::StatusOr<DataSource> SqliteStorage::GetDataSource(
    absl::string_view uuid) {
  return Read([&](Connection& db) { return sqlite::LoadDataSource(db, uuid); });
}

absl::StatusOr<Page<DataSource>> SqliteStorage::ListDataSources(
    const PageRequest& page) {
  return Read(
      [&](Connection& db) { return sqlite::LoadDataSourcePage(db, page); });
}

absl::Status SqliteStorage::DeleteDataSource(absl::string_view uuid,
                                             absl::Time now) {
  absl::Status status = Write([&](Connection& db) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const std::vector<int64_t> survivors,
                               sqlite::DeleteDataSourceRows(db, uuid));
    for (const int64_t customer : survivors) {
      RECURRENT_RETURN_IF_ERROR(sqlite::RecomputeCustomer(db, customer, now));
    }
    return absl::OkStatus();
  });
  NotifyAll();
  return status;
}

absl::StatusOr<SourceSettings> SqliteStorage::GetSettings(
    absl::string_view data_source_uuid) {
  return Read([&](Connection& db) {
    return sqlite::LoadCurrentSettings(db, data_source_uuid);
  });
}

absl::StatusOr<sqlite::ReprocessResult> SqliteStorage::RunReprocess(
    Connection& scan_db, sqlite::EvaluationWriter* writer,
    absl::string_view data_source_uuid, const SourceSettings* next,
    absl::Time now) {
  sqlite::ReprocessRequest request;
  RECURRENT_ASSIGN_OR_RETURN(
      request.source_key, sqlite::FindDataSourceKey(scan_db, data_source_uuid));
  RECURRENT_ASSIGN_OR_RETURN(request.settings,
                             sqlite::LoadAllCurrentSettings(scan_db));
  if (next != nullptr) {
    request.settings_before = request.settings;
    request.settings[std::string(data_source_uuid)] = ToEngine(*next);
  }
  request.now = now;
  request.threads = ReprocessThreads();
  request.chunk_customers = options_.reprocess_chunk_customers;
  request.promote_after = options_.reprocess_promote_after;
  return sqlite::ReprocessSource(scan_db, writer, request);
}

absl::StatusOr<Storage::SettingsUpdate> SqliteStorage::UpdateSettings(
    absl::string_view data_source_uuid, const SettingsDecision& decide,
    bool dry_run, absl::Time now) {
  if (dry_run) {
    // A consistent snapshot on a connection of its own: no write lock, and
    // the reader pool stays free.
    RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> scan_db,
                               OpenScanConnection());
    sqlite::Transaction txn(*scan_db);
    RECURRENT_RETURN_IF_ERROR(txn.Begin(sqlite::Transaction::Kind::kDeferred));
    SettingsUpdate update;
    RECURRENT_ASSIGN_OR_RETURN(
        update.settings,
        sqlite::LoadCurrentSettings(*scan_db, data_source_uuid));
    RECURRENT_ASSIGN_OR_RETURN(std::optional<NewSettings> decision,
                               decide(update.settings));
    if (!decision.has_value()) return update;
    const SourceSettings next = NextVersion(update.settings, *decision, now);
    RECURRENT_ASSIGN_OR_RETURN(
        const sqlite::ReprocessResult result,
        RunReprocess(*scan_db, nullptr, data_source_uuid, &next, now));
    update.impact = result.impact;
    return update;
  }
  absl::StatusOr<SettingsUpdate> result =
      Write([&](Connection& db) -> absl::StatusOr<SettingsUpdate> {
        SettingsUpdate update;
        RECURRENT_ASSIGN_OR_RETURN(
            update.settings, sqlite::LoadCurrentSettings(db, data_source_uuid));
        RECURRENT_ASSIGN_OR_RETURN(std::optional<NewSettings> decision,
                                   decide(update.settings));
        if (!decision.has_value()) return update;
        SourceSettings next = NextVersion(update.settings, *decision, now);
        RECURRENT_ASSIGN_OR_RETURN(update.impact,
                                   Reprocess(db, data_source_uuid, &next, now));
        next.impact = update.impact;
        RECURRENT_RETURN_IF_ERROR(sqlite::InsertSettingsVersion(db, next));
        update.settings = std::move(next);
        update.applied = true;
        return update;
      });
  // Every customer with facts in the source is now evaluated under other
  // settings.
  if (!result.ok() || result->applied) NotifyAll();
  return result;
}

absl::StatusOr<SettingsImpact> SqliteStorage::ReprocessDataSource(
    absl::string_view data_source_uuid, absl::Time now) {
  return Write([&](Connection& db) -> absl::StatusOr<SettingsImpact> {
    RECURRENT_RETURN_IF_ERROR(
        sqlite::FindDataSourceKey(db, data_source_uuid).status());
    return Reprocess(db, data_source_uuid, nullptr, now);
  });
}

absl::StatusOr<SettingsImpact> SqliteStorage::Reprocess(
    Connection& db, absl::string_view data_source_uuid,
    const SourceSettings* next, absl::Time now) {
  // Started after the write lock was taken, the scan's snapshot is the
  // state this transaction starts from; it does not see its own writes.
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> scan_db,
                             OpenScanConnection());
  sqlite::Transaction txn(*scan_db);
  RECURRENT_RETURN_IF_ERROR(txn.Begin(sqlite::Transaction::Kind::kDeferred));
  RECURRENT_ASSIGN_OR_RETURN(sqlite::EvaluationWriter writer,
                             sqlite::EvaluationWriter::Create(db));
  RECURRENT_ASSIGN_OR_RETURN(
      const sqlite::ReprocessResult result,
      RunReprocess(*scan_db, &writer, data_source_uuid, next, now));
  return result.impact;
}

absl::StatusOr<std::vector<SourceSettings>> SqliteStorage::ListSettingsHistory(
    absl::string_view data_source_uuid) {
  return Read([&](Connection& db) {
    return sqlite::LoadSettingsHistory(db, data_source_uuid);
  });
}

// ---- Customers ----------------------------------------------------------

absl::StatusOr<Customer> SqliteStorage::CreateCustomer(const Customer& customer,
                                                       absl::Time now) {
  return Write([&](Connection& db) {
    return sqlite::InsertCustomer(db, customer, now);
  });
}

absl::StatusOr<Customer> SqliteStorage::GetCustomer(absl::string_view uuid) {
  return Read([&](Connection& db) { return sqlite::LoadCustomer(db, uuid); });
}

absl::StatusOr<Customer> SqliteStorage::UpdateCustomer(
    absl::string_view uuid, const CustomerMutation& mutate, absl::Time now) {
  return WriteCustomers(
      {std::string(uuid)}, [&](Connection& db) -> absl::StatusOr<Customer> {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                                   sqlite::FindCustomerKey(db, uuid));
        RECURRENT_ASSIGN_OR_RETURN(Customer customer,
                                   sqlite::LoadCustomer(db, key));
        RECURRENT_RETURN_IF_ERROR(mutate(customer));
        RECURRENT_RETURN_IF_ERROR(
            sqlite::StoreCustomerFields(db, key, customer, now));
        return sqlite::LoadCustomer(db, key);
      });
}

absl::Status SqliteStorage::DeleteCustomer(absl::string_view uuid) {
  return WriteCustomers({std::string(uuid)}, [&](Connection& db) {
    return sqlite::DeleteCustomerRow(db, uuid);
  });
}

absl::StatusOr<Page<Customer>> SqliteStorage::ListCustomers(
    const CustomerFilter& filter, const PageRequest& page) {
  return Read([&](Connection& db) {
    return sqlite::LoadCustomerPage(db, filter, page);
  });
}

absl::StatusOr<Customer> SqliteStorage::MergeCustomers(
    absl::string_view from_uuid, absl::string_view into_uuid, absl::Time now) {
  return WriteCustomers(
      {std::string(from_uuid), std::string(into_uuid)},
      [&](Connection& db) -> absl::StatusOr<Customer> {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t from,
                                   sqlite::FindCustomerKey(db, from_uuid));
        RECURRENT_ASSIGN_OR_RETURN(const int64_t into,
                                   sqlite::FindCustomerKey(db, into_uuid));
        if (from == into) {
          return absl::InvalidArgumentError(absl::StrCat(
              "cannot merge customer ", from_uuid, " into itself"));
        }
        RECURRENT_RETURN_IF_ERROR(
            sqlite::MergeCustomerRows(db, from, into, now));
        RECURRENT_RETURN_IF_ERROR(sqlite::RecomputeCustomer(db, into, now));
        return sqlite::LoadCustomer(db, into);
      });
}

absl::StatusOr<Customer> SqliteStorage::AddCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return WriteCustomers(
      {std::string(uuid)}, [&](Connection& db) -> absl::StatusOr<Customer> {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                                   sqlite::FindCustomerKey(db, uuid));
        RECURRENT_RETURN_IF_ERROR(sqlite::AddTags(db, key, tags, now));
        return sqlite::LoadCustomer(db, key);
      });
}

absl::StatusOr<Customer> SqliteStorage::RemoveCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return WriteCustomers(
      {std::string(uuid)}, [&](Connection& db) -> absl::StatusOr<Customer> {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                                   sqlite::FindCustomerKey(db, uuid));
        RECURRENT_RETURN_IF_ERROR(sqlite::RemoveTags(db, key, tags, now));
        return sqlite::LoadCustomer(db, key);
      });
}

// ---- Invoices -----------------------------------------------------------

absl::StatusOr<std::vector<Invoice>> SqliteStorage::ImportInvoices(
    absl::string_view customer_uuid, const std::vector<Invoice>& invoices,
    absl::Time now) {
  return WriteCustomers(
      {std::string(customer_uuid)},
      [&](Connection& db) -> absl::StatusOr<std::vector<Invoice>> {
        RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                                   sqlite::FindCustomerKey(db, customer_uuid));
        RECURRENT_ASSIGN_OR_RETURN(
            std::vector<Invoice> stored,
            sqlite::ImportInvoiceRows(db, key, customer_uuid, invoices));
        RECURRENT_RETURN_IF_ERROR(sqlite::RecomputeCustomer(db, key, now));
        return stored;
      });
}

absl::StatusOr<Invoice> SqliteStorage::GetInvoice(absl::string_view uuid) {
  return Read([&](Connection& db) { return sqlite::LoadInvoice(db, uuid); });
}

absl::StatusOr<Page<Invoice>> SqliteStorage::ListInvoices(
    const InvoiceFilter& filter, const PageRequest& page) {
  return Read([&](Connection& db) {
    return sqlite::LoadInvoicePage(db, filter, page);
  });
}

absl::Status SqliteStorage::DeleteInvoice(absl::string_view uuid,
                                          absl::Time now) {
  std::string customer_uuid;
  absl::Status status = Write([&](Connection& db) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const int64_t customer,
                               sqlite::DeleteInvoiceRows(db, uuid));
    RECURRENT_ASSIGN_OR_RETURN(customer_uuid,
                               sqlite::FindCustomerUuid(db, customer));
    return sqlite::RecomputeCustomer(db, customer, now);
  });
  if (!customer_uuid.empty()) NotifyCustomers({std::move(customer_uuid)});
  return status;
}

absl::StatusOr<Transaction> SqliteStorage::AddTransaction(
    absl::string_view invoice_uuid, const Transaction& transaction,
    absl::Time now) {
  std::string customer_uuid;
  absl::StatusOr<Transaction> result =
      Write([&](Connection& db) -> absl::StatusOr<Transaction> {
        RECURRENT_ASSIGN_OR_RETURN(
            sqlite::StoredTransaction stored,
            sqlite::InsertTransaction(db, invoice_uuid, transaction));
        RECURRENT_ASSIGN_OR_RETURN(
            customer_uuid, sqlite::FindCustomerUuid(db, stored.customer_key));
        RECURRENT_RETURN_IF_ERROR(
            sqlite::RecomputeCustomer(db, stored.customer_key, now));
        return std::move(stored.transaction);
      });
  if (!customer_uuid.empty()) NotifyCustomers({std::move(customer_uuid)});
  return result;
}

// ---- Subscriptions and events ---------------------------------------------

absl::StatusOr<SubscriptionRef> SqliteStorage::GetSubscription(
    absl::string_view uuid) {
  return Read([&](Connection& db) -> absl::StatusOr<SubscriptionRef> {
    RECURRENT_ASSIGN_OR_RETURN(sqlite::SubscriptionRow row,
                               sqlite::FindSubscription(db, uuid));
    return std::move(row.ref);
  });
}

absl::Status SqliteStorage::CancelSubscription(
    absl::string_view subscription_uuid, absl::Time cancelled_at,
    absl::Time now) {
  std::string customer_uuid;
  absl::Status status = Write([&](Connection& db) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const sqlite::SubscriptionRow row,
                               sqlite::FindSubscription(db, subscription_uuid));
    customer_uuid = row.ref.customer_uuid;
    RECURRENT_RETURN_IF_ERROR(
        sqlite::InsertCancellation(db, row.key, cancelled_at, now));
    return sqlite::RecomputeCustomer(db, row.customer_key, now);
  });
  if (!customer_uuid.empty()) NotifyCustomers({std::move(customer_uuid)});
  return status;
}

absl::StatusOr<CustomerSnapshot> SqliteStorage::GetCustomerSnapshot(
    absl::string_view customer_uuid) {
  return Read([&](Connection& db) -> absl::StatusOr<CustomerSnapshot> {
    RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                               sqlite::FindCustomerKey(db, customer_uuid));
    CustomerSnapshot snapshot;
    RECURRENT_ASSIGN_OR_RETURN(snapshot.customer,
                               sqlite::LoadCustomer(db, key));
    RECURRENT_ASSIGN_OR_RETURN(sqlite::CustomerFactsRows loaded,
                               sqlite::LoadCustomerFacts(db, key));
    snapshot.facts = std::move(loaded.facts);
    snapshot.settings = std::move(loaded.settings);
    snapshot.subscriptions.reserve(loaded.subscriptions.size());
    for (sqlite::SubscriptionRow& row : loaded.subscriptions) {
      snapshot.subscriptions.push_back(std::move(row.ref));
    }
    return snapshot;
  });
}

absl::StatusOr<Page<SubscriptionEvent>> SqliteStorage::ListSubscriptionEvents(
    const EventFilter& filter, const PageRequest& page) {
  return Read(
      [&](Connection& db) { return sqlite::LoadEventPage(db, filter, page); });
}

absl::StatusOr<int> SqliteStorage::RecomputeDueCustomers(absl::Time now,
                                                         int limit) {
  return Write(
      [&](Connection& db) { return sqlite::RecomputeDue(db, now, limit); });
}

}  // namespace recurrent::persistence
