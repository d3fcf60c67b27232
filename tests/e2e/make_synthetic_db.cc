// Writes a synthetic source (bench/synthetic_source.h) into a new database,
// for end-to-end tests that need a large source.
//
//   make_synthetic_db DB_PATH CUSTOMERS
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "bench/synthetic_source.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_synthetic_db DB_PATH CUSTOMERS\n");
    return 2;
  }
  recurrent::bench::SyntheticSourceOptions options;
  options.path = argv[1];
  options.customers = std::atoi(argv[2]);
  // The data ends at a fixed instant in the past, so that runs repeat.
  options.now = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
  recurrent::bench::SyntheticSourceStats stats;
  const absl::Status status =
      recurrent::bench::GenerateSyntheticSource(options, stats);
  if (!status.ok()) {
    std::fprintf(stderr, "make_synthetic_db: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
