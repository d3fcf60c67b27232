// SourceScanner: streams the state of every customer that has a
// subscription in one data source (persistence::SourceScan), in customer
// key order, from a few ordered scans (one per table, each walked by a
// cursor and merged on the customer key) instead of queries per customer.
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
// A merged customer is read whole: its external ids, invoices,
// subscriptions and events of every source. Each CustomerState gets the
// customer's key, uuid, status, derived tags, external ids (so its primary
// source), next_transition_at, facts, subscriptions with their stored
// evaluations and events; not its fields, tags or settings.
//
// Internal to SqliteBackend: runs on a connection inside a read transaction
// held by the caller (so that every scan reads one snapshot), which must
// outlive it. Not thread-safe; may be used on another thread than the one
// that started it, one at a time.
#ifndef RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_
#define RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

class SourceScanner final : public SourceScan {
 public:
  // The scans, for the benchmark's bare-scan baseline: each takes the source
  // key as ?1 and returns the customer key in column 0, ordered by it.
  static std::vector<std::string> ScanQueries();

  // Starts the scans of the source `source_key` on `db` (reading their
  // first rows).
  static absl::StatusOr<std::unique_ptr<SourceScanner>> Start(
      Connection& db, int64_t source_key);

  SourceScanner(const SourceScanner&) = delete;
  SourceScanner& operator=(const SourceScanner&) = delete;

  // SourceScan:
  absl::StatusOr<bool> Next(CustomerState& state) override;
  int64_t rows_scanned() const override { return rows_scanned_; }

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
  // customers, external ids, invoices with line items, transactions,
  // subscriptions, cancellations, events (see ScanQueries()).
  std::vector<Cursor> cursors_;
  int64_t rows_scanned_ = 0;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_
