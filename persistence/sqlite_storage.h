// SqliteStorage: the embedded Storage backend, one SQLite database file.
//
//   SqliteStorage::Options options;
//   options.path = "./data/recurrent.db";
//   RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStorage> storage,
//                    SqliteStorage::Open(options));
//
// The database runs in WAL mode with foreign keys on. Writes go through one
// writer connection (serialized by a mutex, each in a BEGIN IMMEDIATE
// transaction); reads use a pool of read-only connections, each read in one
// transaction so it sees a consistent snapshot. Open() creates the file and
// its folder if missing and brings the schema to the latest version
// (persistence/sqlite_schema.h).
//
// Every write that changes a customer's facts recomputes its stored
// evaluation in the same transaction (persistence/sqlite_recompute.h).
// UpdateSettings and ReprocessDataSource recompute a whole source in one
// write transaction (persistence/sqlite_reprocess.h): a dedicated read-only
// connection scans the source's snapshot while evaluator threads run the
// engine and the writer applies only what changed; the reader pool keeps
// serving reads. A dry run uses the dedicated connection only.
//
// Thread-safe. The callbacks of UpdateSettings and UpdateCustomer run while
// the write lock is held: they must not call back into the storage.
#ifndef RECURRENT_PERSISTENCE_SQLITE_STORAGE_H_
#define RECURRENT_PERSISTENCE_SQLITE_STORAGE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/storage.h"

namespace recurrent::persistence {

namespace sqlite {
class Connection;
class EvaluationWriter;
struct ReprocessResult;
}  // namespace sqlite

class SqliteStorage final : public Storage {
 public:
  // PRAGMA synchronous of the writer connection.
  enum class Synchronous {
    kNormal,  // faster; a power loss may drop the last commits (WAL mode)
    kFull,    // every commit is fsynced before it is acknowledged
  };

  struct Options {
    // The database file. Its folder is created if missing.
    std::string path;
    // Read-only connections; concurrent reads beyond this wait for one.
    int reader_pool_size = 4;
    // How long a statement waits for a lock held by another connection (or
    // process) before failing with kUnavailable.
    absl::Duration busy_timeout = absl::Seconds(5);
    // kFull so that an acknowledged write survives a crash or power loss.
    Synchronous synchronous = Synchronous::kFull;
    // Threads that evaluate customers while a source is reprocessed; 0 means
    // one per hardware thread.
    int reprocess_threads = 0;
    // Customers per unit of work of a reprocess. Bounds its memory: at most
    // reprocess_threads + 2 chunks are held at once.
    int reprocess_chunk_customers = 1024;
    // Idle-priority reprocess threads starved this long are raised to nice
    // 10 (sqlite::ReprocessRequest::promote_after).
    absl::Duration reprocess_promote_after = absl::Milliseconds(250);
    // If positive, caps the database at this many pages (PRAGMA
    // max_page_count on the writer); writes beyond fail with
    // kResourceExhausted as on a full disk.
    int64_t max_page_count = 0;
    // Serve reads only (e.g. a copy made with BackupDatabase, or while the
    // disk is being repaired): after Open's migrations, every write fails
    // with kFailedPrecondition ("database is read-only"), as it does when
    // the file itself cannot be written.
    bool read_only = false;
  };

  // Opens (creating if needed) and migrates the database at options.path.
  // Errors name the path and are meant for the operator, not API callers:
  //   kInvalidArgument    empty path or reader_pool_size < 1
  //   kFailedPrecondition the path is a directory, cannot be created or
  //                       opened (e.g. permission denied), is not a SQLite
  //                       database, or has a schema newer than this build
  //   kUnavailable        the database is locked by another process
  static absl::StatusOr<std::unique_ptr<SqliteStorage>> Open(
      const Options& options);

  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;
  ~SqliteStorage() override;

  // Storage:
  absl::StatusOr<DataSource> CreateDataSource(absl::string_view name,
                                              absl::string_view system,
                                              absl::Time now) override;
  absl::StatusOr<DataSource> GetDataSource(absl::string_view uuid) override;
  absl::StatusOr<Page<DataSource>> ListDataSources(
      const PageRequest& page) override;
  absl::Status DeleteDataSource(absl::string_view uuid,
                                absl::Time now) override;
  absl::StatusOr<SourceSettings> GetSettings(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<SettingsUpdate> UpdateSettings(
      absl::string_view data_source_uuid, const SettingsDecision& decide,
      bool dry_run, absl::Time now) override;
  absl::StatusOr<SettingsImpact> ReprocessDataSource(
      absl::string_view data_source_uuid, absl::Time now) override;
  absl::StatusOr<std::vector<SourceSettings>> ListSettingsHistory(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<Customer> CreateCustomer(const Customer& customer,
                                          absl::Time now) override;
  absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) override;
  absl::StatusOr<Customer> UpdateCustomer(absl::string_view uuid,
                                          const CustomerMutation& mutate,
                                          absl::Time now) override;
  absl::Status DeleteCustomer(absl::string_view uuid) override;
  absl::StatusOr<Page<Customer>> ListCustomers(
      const CustomerFilter& filter, const PageRequest& page) override;
  absl::StatusOr<Customer> MergeCustomers(absl::string_view from_uuid,
                                          absl::string_view into_uuid,
                                          absl::Time now) override;
  absl::StatusOr<Customer> AddCustomerTags(absl::string_view uuid,
                                           const std::vector<std::string>& tags,
                                           absl::Time now) override;
  absl::StatusOr<Customer> RemoveCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) override;
  absl::StatusOr<std::vector<Invoice>> ImportInvoices(
      absl::string_view customer_uuid, const std::vector<Invoice>& invoices,
      absl::Time now) override;
  absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid) override;
  absl::StatusOr<Page<Invoice>> ListInvoices(const InvoiceFilter& filter,
                                             const PageRequest& page) override;
  absl::Status DeleteInvoice(absl::string_view uuid, absl::Time now) override;
  absl::StatusOr<Transaction> AddTransaction(absl::string_view invoice_uuid,
                                             const Transaction& transaction,
                                             absl::Time now) override;
  absl::StatusOr<SubscriptionRef> GetSubscription(
      absl::string_view uuid) override;
  absl::Status CancelSubscription(absl::string_view subscription_uuid,
                                  absl::Time cancelled_at,
                                  absl::Time now) override;
  absl::StatusOr<CustomerSnapshot> GetCustomerSnapshot(
      absl::string_view customer_uuid) override;
  absl::StatusOr<Page<SubscriptionEvent>> ListSubscriptionEvents(
      const EventFilter& filter, const PageRequest& page) override;
  absl::StatusOr<int> RecomputeDueCustomers(absl::Time now, int limit) override;
  void SetChangeListener(ChangeListener listener) override;

 private:
  // A reader connection checked out of the pool; returns it on destruction.
  class ReaderLease;

  SqliteStorage(const Options& options,
                std::unique_ptr<sqlite::Connection> writer,
                std::vector<std::unique_ptr<sqlite::Connection>> readers);

  // A new read-only connection for scanning a whole source.
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> OpenScanConnection();
  // The evaluating threads of a reprocess.
  int ReprocessThreads() const;
  // Recomputes the source `data_source_uuid` at `now`, scanning on
  // `scan_db` (in a read transaction) and writing with `writer` (or nothing
  // if null), under its current settings or, if `next` is set, under `next`
  // (then "before" is the current settings' evaluation).
  absl::StatusOr<sqlite::ReprocessResult> RunReprocess(
      sqlite::Connection& scan_db, sqlite::EvaluationWriter* writer,
      absl::string_view data_source_uuid, const SourceSettings* next,
      absl::Time now);
  // RunReprocess inside the write transaction on `db` (the writer), with a
  // scan connection of its own.
  absl::StatusOr<SettingsImpact> Reprocess(sqlite::Connection& db,
                                           absl::string_view data_source_uuid,
                                           const SourceSettings* next,
                                           absl::Time now);

  // Tells the listener, if any, that `changes` may have changed.
  void Notify(const CustomerChanges& changes) const;
  void NotifyAll() const;
  void NotifyCustomers(std::vector<std::string> uuids) const;

  // Write(fn), then NotifyCustomers(customers).
  template <typename Fn>
  auto WriteCustomers(std::vector<std::string> customers, Fn&& fn);
  // Runs fn(connection) in a read transaction on a pooled reader.
  template <typename Fn>
  auto Read(Fn&& fn);
  // Runs fn(connection) in a BEGIN IMMEDIATE transaction on the writer and
  // commits if it succeeds; otherwise rolls back and returns its error.
  template <typename Fn>
  auto Write(Fn&& fn);

  const Options options_;
  ChangeListener change_listener_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex writer_mu_;
  const std::unique_ptr<sqlite::Connection> writer_ ABSL_GUARDED_BY(writer_mu_);

  std::mutex readers_mu_;
  std::condition_variable reader_returned_;
  // Every reader, owned; `idle_readers_` lists those not checked out.
  std::vector<std::unique_ptr<sqlite::Connection>> readers_;
  std::vector<sqlite::Connection*> idle_readers_ ABSL_GUARDED_BY(readers_mu_);
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SQLITE_STORAGE_H_
