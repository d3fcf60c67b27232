// A synthetic data source for the reprocess benchmark
// (bench/reprocess_benchmark.cc, docs/performance.md "Reprocess").
//
// Customers of source "bench" have 1-4 subscriptions and exactly 12 monthly
// invoices between them (12 / subscriptions months each), due 7 days after
// issue: 88 % paid on time, 8 % paid 1-40 days late, 3 % never paid, 1 %
// half paid; 10 % of invoices carry a one-time fee as a second line item
// and 5 % of payments follow a failed attempt. 70 % of subscriptions run up
// to `now`; the others ended 1-12 months earlier, most of those with an
// explicit cancellation. Every 100th customer is merged with a customer of
// a second source "other" (3 more monthly invoices there), which also has
// customers of its own (a tenth as many), so that the scans must filter.
//
// Rows are written straight into the SQLite schema with prepared
// statements in one transaction (tens of seconds for 100,000 customers),
// then each source is reprocessed once so that the stored evaluations
// (statuses, events) are those of the facts, as after real imports.
// Generation is deterministic given the seed, uuids aside.
#ifndef RECURRENT_BENCH_SYNTHETIC_SOURCE_H_
#define RECURRENT_BENCH_SYNTHETIC_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace recurrent::bench {

struct SyntheticSourceOptions {
  std::string path;  // a database file that does not exist yet
  int customers = 100000;
  uint64_t seed = 1;
  absl::Time now;  // the instant the data describes
  // SQLite's page cache while the rows are loaded (one transaction): the
  // uuid indexes spill and are re-read once they outgrow it.
  int cache_mb = 4096;
};

// Counts of what was generated.
struct SyntheticSourceStats {
  int64_t customers = 0;
  int64_t invoices = 0;
  int64_t line_items = 0;
  int64_t transactions = 0;
  int64_t subscriptions = 0;
  int64_t cancellations = 0;
};

// Creates the database, both sources with settings KEEP and their data,
// and stores the initial evaluations. Prints progress to stdout.
absl::Status GenerateSyntheticSource(const SyntheticSourceOptions& options,
                                     SyntheticSourceStats& stats);

// The name of the benchmarked source.
inline constexpr char kBenchSourceName[] = "bench";

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_SYNTHETIC_SOURCE_H_
