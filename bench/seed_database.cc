// seed-database: writes the synthetic sources of bench/synthetic_source.h
// (source "bench" with --customers customers, and "other") into a new
// database, describing the present (--now defaults to the current time, so
// that statuses evaluated at "now" by a server are those of the data).
//
//   seed-database --db=/tmp/recurrent-bench/100k.db --customers=100000
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "bench/synthetic_source.h"

ABSL_FLAG(std::string, db, "", "database file to create (must not exist)");
ABSL_FLAG(int, customers, 100000, "customers of source \"bench\"");
ABSL_FLAG(uint64_t, seed, 1, "random seed");
ABSL_FLAG(int, cache_mb, recurrent::bench::SyntheticSourceOptions().cache_mb,
          "SQLite page cache while loading the rows (MiB)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  recurrent::bench::SyntheticSourceOptions options;
  options.path = absl::GetFlag(FLAGS_db);
  options.customers = absl::GetFlag(FLAGS_customers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.cache_mb = absl::GetFlag(FLAGS_cache_mb);
  options.now = absl::Now();
  recurrent::bench::SyntheticSourceStats stats;
  const absl::Status status =
      recurrent::bench::GenerateSyntheticSource(options, stats);
  if (!status.ok()) {
    std::fprintf(stderr, "seed-database: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf(
      "seed-database: %lld customers, %lld invoices, %lld line items, %lld "
      "transactions, %lld subscriptions in %s\n",
      static_cast<long long>(stats.customers),
      static_cast<long long>(stats.invoices),
      static_cast<long long>(stats.line_items),
      static_cast<long long>(stats.transactions),
      static_cast<long long>(stats.subscriptions), options.path.c_str());
  return 0;
}
