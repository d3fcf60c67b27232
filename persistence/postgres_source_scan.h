// SourceScanner: streams the state of every customer that has a
// subscription in one data source (persistence::SourceScan), in customer
// key order, for PostgreSQL (the same contract as
// persistence/sqlite_source_scan.h).
//
//   RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScanner> scan,
//                              SourceScanner::Start(db, source_key));
//   CustomerState state;
//   while (true) {
//     RECURRENT_ASSIGN_OR_RETURN(const bool more, scan->Next(state));
//     if (!more) break;
//     ...
//   }
//
// The customers are read in pages of kCustomersPerPage (by key). For each
// page, one ordered query per table reads the rows of the page's customers
// (their keys bound as one array), and the scans are merged on the customer
// key: a few queries per page instead of queries per customer, and memory
// bounded by a page (a PostgreSQL Statement holds its whole result).
//
// A merged customer is read whole: its external ids, invoices,
// subscriptions and events of every source. Each CustomerState gets the
// customer's key, uuid, status, derived tags, external ids (so its primary
// source), next_transition_at, facts, subscriptions with their stored
// evaluations and events; not its fields, tags or settings.
//
// Internal to the PostgreSQL backend: runs on a connection inside a
// REPEATABLE READ (or SERIALIZABLE) transaction held by the caller, so that
// every page of every scan reads one snapshot; the connection and the
// transaction must outlive the scanner. Not thread-safe; may be used on
// another thread than the one that started it, one at a time.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_SOURCE_SCAN_H_
#define RECURRENT_PERSISTENCE_POSTGRES_SOURCE_SCAN_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/backend.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

class SourceScanner final : public SourceScan {
 public:
  // Customers per page.
  static constexpr int kCustomersPerPage = 500;

  // The scans, for the benchmark's bare-scan baseline; each returns the
  // customer key in column 0, ordered by it. The first (customers) takes
  // the source key as $1, the last customer key of the previous page as $2
  // (0 for the first page) and the page size as $3; each other scan takes
  // the page's customer keys as $1 (bigint[]).
  static std::vector<std::string> ScanQueries();

  // Starts the scans of the source `source_key` on `db` (reading the first
  // page).
  static absl::StatusOr<std::unique_ptr<SourceScanner>> Start(
      Connection& db, int64_t source_key);

  SourceScanner(const SourceScanner&) = delete;
  SourceScanner& operator=(const SourceScanner&) = delete;

  // SourceScan:
  absl::StatusOr<bool> Next(CustomerState& state) override;
  int64_t rows_scanned() const override { return rows_scanned_; }

 private:
  // One scan over the current page: a statement positioned on its current
  // row.
  class Cursor {
   public:
    explicit Cursor(Statement stmt) : stmt_(std::move(stmt)) {}
    Cursor(Cursor&&) = default;

    // Runs the scan for the customers `keys` and steps to its first row.
    absl::Status Restart(const std::vector<int64_t>& keys,
                         int64_t& rows_scanned);
    // Steps to the next row.
    absl::Status Advance(int64_t& rows_scanned);
    // The customer key of the current row; the largest key when done.
    int64_t customer() const {
      return has_row_ ? stmt_.ColumnInt64(0)
                      : std::numeric_limits<int64_t>::max();
    }
    const Statement& row() const { return stmt_; }

   private:
    Statement stmt_;
    bool has_row_ = false;
  };

  // A row of the customers scan.
  struct CustomerHead {
    int64_t key = 0;
    std::string uuid;
    int64_t status = 0;  // CustomerStatusCode
    std::string derived_tags;
    std::optional<absl::Time> next_transition_at;
  };

  SourceScanner(absl::flat_hash_map<int64_t, std::string> source_uuids,
                Statement customers, std::vector<Cursor> cursors)
      : source_uuids_(std::move(source_uuids)),
        customers_(std::move(customers)),
        cursors_(std::move(cursors)) {}

  // Reads the next page of customers and restarts the other scans on it;
  // leaves page_ empty after the last customer.
  absl::Status LoadPage();
  // Skips rows of `cursor` before customer `key`, which the driving scan
  // does not list (none, since all scans read one snapshot).
  absl::Status SkipTo(Cursor& cursor, int64_t key);
  absl::Status ReadExternalIds(int64_t key, CustomerState& state);
  absl::Status ReadInvoices(int64_t key, CustomerState& state,
                            std::vector<int64_t>& invoice_keys);
  absl::Status ReadTransactions(int64_t key, CustomerState& state,
                                const std::vector<int64_t>& invoice_keys);
  absl::Status ReadSubscriptions(int64_t key, CustomerState& state);
  absl::Status ReadCancellations(int64_t key, CustomerState& state);
  absl::Status ReadEvents(int64_t key, CustomerState& state);
  const std::string& SourceUuid(int64_t source_key) const;

  absl::flat_hash_map<int64_t, std::string> source_uuids_;
  // The customers scan (ScanQueries()[0]), its source and size bound.
  Statement customers_;
  // The current page of customers, and the next one to return.
  std::vector<CustomerHead> page_;
  size_t next_ = 0;
  // The last customer key read; true once a page came back short.
  int64_t after_ = 0;
  bool last_page_ = false;
  // external ids, invoices with line items, transactions, subscriptions,
  // cancellations, events (ScanQueries()[1...]).
  std::vector<Cursor> cursors_;
  int64_t rows_scanned_ = 0;
};

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_SOURCE_SCAN_H_
