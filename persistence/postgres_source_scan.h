// SourceScanner: streams the state of every customer that has a
// subscription in one data source (persistence::SourceScan), in customer
// key order, for PostgreSQL (the same contract as
// persistence/sqlite_source_scan.h).
//
//   RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScanner> scan,
//                              SourceScanner::Start(db, source_key,
//                                                   ReadAhead::kNo));
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
// With ReadAhead::kYes, the queries of the next page run on a thread of the
// scanner's own while the caller reads the current page (whose rows are
// already in memory): the server's work and recurrentd's overlap, on two
// cores, instead of alternating. The connection is then in use between
// calls, so only a caller that leaves it to the scanner (a connection of
// the scan's own) may ask for it.
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
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/backend.h"
#include "persistence/postgres_connection.h"
#include "persistence/source_scan_merge.h"
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

  enum class ReadAhead { kNo, kYes };

  // Starts the scans of the source `source_key` on `db` (reading the first
  // page).
  static absl::StatusOr<std::unique_ptr<SourceScanner>> Start(
      Connection& db, int64_t source_key, ReadAhead read_ahead);

  SourceScanner(const SourceScanner&) = delete;
  SourceScanner& operator=(const SourceScanner&) = delete;
  // Waits for a page being read ahead.
  ~SourceScanner() override;

  // SourceScan:
  absl::StatusOr<bool> Next(CustomerState& state) override;
  int64_t rows_scanned() const override { return rows_scanned_; }

 private:
  using Cursor = ScanCursor<Statement>;

  // A row of the customers scan.
  struct CustomerHead {
    int64_t key = 0;
    std::string uuid;
    int64_t status = 0;  // CustomerStatusCode
    std::string derived_tags;
    std::optional<absl::Time> next_transition_at;
    std::string status_reason;
    std::optional<int64_t> mrr_digest;
  };

  // A page read from the server: its customers and the child scans run on
  // them (their results in memory, each cursor on its first row).
  struct Page {
    std::vector<CustomerHead> customers;
    std::vector<Cursor> children;
    int64_t rows_scanned = 0;
    absl::Status status;
  };

  SourceScanner(Statement customers, ScanMerge<Statement> merge,
                std::vector<Cursor> spare_children, ReadAhead read_ahead);

  // Reads into ahead_ the page of customers after key `after`, running
  // ahead_.children on it. The only user of the connection.
  absl::Status Fetch(int64_t after);
  // Makes the page in ahead_ (fetched now, or waited for) the current one,
  // then starts reading the next one ahead if asked to.
  absl::Status NextPage();

  const ReadAhead read_ahead_;
  // The customers scan (ScanQueries()[0]), its source and size bound.
  Statement customers_;
  // The current page of customers, and the next one to return.
  std::vector<CustomerHead> page_;
  size_t next_ = 0;
  // The last customer key of the current page; true once a page came back
  // short.
  int64_t after_ = 0;
  bool last_page_ = false;
  // The child scans (ScanQueries()[1...]) of the current page.
  ScanMerge<Statement> merge_;
  // The next page, with the other set of child statements; written by
  // fetcher_ while it runs.
  Page ahead_;
  std::thread fetcher_;
  int64_t rows_scanned_ = 0;
};

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_SOURCE_SCAN_H_
