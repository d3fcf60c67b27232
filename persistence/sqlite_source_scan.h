// SourceScanner: streams the facts and stored evaluation of every customer
// that has a subscription in one data source, in customer key order, from a
// few ordered scans (one per table, each walked by a cursor and merged on
// the customer key) instead of queries per customer.
//
//   RECURRENT_ASSIGN_OR_RETURN(SourceScanner scanner, SourceScanner::Start(db,
//   source)); StoredCustomer customer; while (true) {
//     RECURRENT_ASSIGN_OR_RETURN(const bool more, scanner.Next(customer));
//     if (!more) break;
//     ...
//   }
//
// A merged customer is read whole: its invoices, subscriptions and events
// of every source. Internal to SqliteStorage: runs on a connection inside a
// transaction held by the caller (a read transaction, so that the scan sees
// one snapshot). Not thread-safe.
#ifndef RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_
#define RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_evaluation_diff.h"

namespace recurrent::persistence::sqlite {

class SourceScanner {
 public:
  // The scans, for the benchmark's bare-scan baseline: each takes the source
  // key as ?1 and returns the customer key in column 0, ordered by it.
  static std::vector<std::string> ScanQueries();

  // Starts the scans of the source `source_key` on `db`.
  static absl::StatusOr<SourceScanner> Start(Connection& db,
                                             int64_t source_key);

  SourceScanner(SourceScanner&&) = default;
  SourceScanner(const SourceScanner&) = delete;
  SourceScanner& operator=(const SourceScanner&) = delete;

  // Reads the next customer into `customer` (replacing its content) and
  // returns true, or returns false after the last one.
  absl::StatusOr<bool> Next(StoredCustomer& customer);

  // Rows read so far, over all scans.
  int64_t rows_scanned() const { return rows_scanned_; }

 private:
  // One scan: a statement positioned on its current row.
  class Cursor {
   public:
    explicit Cursor(Statement stmt) : stmt_(std::move(stmt)) {}
    Cursor(Cursor&&) = default;

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

  SourceScanner(absl::flat_hash_map<int64_t, std::string> source_uuids,
                std::vector<Cursor> cursors)
      : source_uuids_(std::move(source_uuids)), cursors_(std::move(cursors)) {}

  // Skips rows of `cursor` before customer `key`, which the driving scan
  // does not list (none, since all scans read one snapshot).
  absl::Status SkipTo(Cursor& cursor, int64_t key);
  absl::Status ReadInvoices(int64_t key, StoredCustomer& customer,
                            std::vector<int64_t>& invoice_keys);
  absl::Status ReadTransactions(int64_t key, StoredCustomer& customer,
                                const std::vector<int64_t>& invoice_keys);
  absl::Status ReadSubscriptions(int64_t key, StoredCustomer& customer);
  absl::Status ReadCancellations(int64_t key, StoredCustomer& customer);
  absl::Status ReadEvents(int64_t key, StoredCustomer& customer);
  const std::string& SourceUuid(int64_t source_key) const;

  absl::flat_hash_map<int64_t, std::string> source_uuids_;
  // customers, invoices with line items, transactions, subscriptions,
  // cancellations, events (see ScanQueries()).
  std::vector<Cursor> cursors_;
  int64_t rows_scanned_ = 0;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_
