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
#include "persistence/source_scan_merge.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_statement.h"

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
  using Cursor = ScanCursor<Statement>;

  SourceScanner(Cursor customers, ScanMerge<Statement> merge)
      : customers_(std::move(customers)), merge_(std::move(merge)) {}

  // The customers (ScanQueries()[0]) and the child scans, merged on it.
  Cursor customers_;
  ScanMerge<Statement> merge_;
  int64_t rows_scanned_ = 0;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SOURCE_SCAN_H_
