// sqlite-mrr-baseline: the ceiling of the storage layer for GetMrr and
// GetMrrSeries. Scans the stored MRR rows of source --source that those
// calls sum (mrr_movements and mrr_deltas, up to an instant, through the
// same covering indexes) with one bare aggregate per table and nothing
// else: no grouping by currency or type, no RPC. See docs/performance.md,
// section "MRR".
//
//   sqlite-mrr-baseline --db=/tmp/recurrent-bench/service/work/db
//
// Prints, for each call, "RESULT label=sqlite_mrr kind=GetMrr p50_us=...
// p99_us=... scans=... rows=..." (kind=GetMrrSeries scans up to the end of
// the current month, where the monthly series of bench/run ends).
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, db, "", "database with stored MRR rows (read only)");
ABSL_FLAG(std::string, source, "bench", "name of the data source scanned");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "not measured");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(8), "measured, per call");

namespace recurrent::bench {
namespace {

[[noreturn]] void Die(sqlite3* db, const std::string& what) {
  std::fprintf(stderr, "sqlite-mrr-baseline: %s: %s\n", what.c_str(),
               db != nullptr ? sqlite3_errmsg(db) : "");
  std::exit(1);
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    Die(db, sql);
  }
  return stmt;
}

// Runs the one-row aggregate `stmt` with ?1 = source, ?2 = upper bound
// (exclusive, Unix microseconds); returns its first column (a row count).
int64_t Aggregate(sqlite3* db, sqlite3_stmt* stmt, int64_t source,
                  int64_t until) {
  sqlite3_reset(stmt);
  sqlite3_bind_int64(stmt, 1, source);
  sqlite3_bind_int64(stmt, 2, until);
  if (sqlite3_step(stmt) != SQLITE_ROW) Die(db, "aggregate");
  const int64_t rows = sqlite3_column_int64(stmt, 0);
  if (sqlite3_step(stmt) != SQLITE_DONE) Die(db, "aggregate");
  return rows;
}

int64_t Percentile(std::vector<int64_t> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(values.size()));
  return values[std::min(i, values.size() - 1)];
}

int Run() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(absl::GetFlag(FLAGS_db).c_str(), &db,
                      SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    Die(db, "open " + absl::GetFlag(FLAGS_db));
  }
  // recurrentd's reader page cache (persistence/sqlite_backend.cc).
  sqlite3_exec(db, "PRAGMA cache_size = -32768", nullptr, nullptr, nullptr);
  sqlite3_stmt* find = Prepare(db, "SELECT id FROM data_sources WHERE name = ?");
  sqlite3_bind_text(find, 1, absl::GetFlag(FLAGS_source).c_str(), -1,
                    SQLITE_TRANSIENT);
  if (sqlite3_step(find) != SQLITE_ROW) {
    Die(db, "no source " + absl::GetFlag(FLAGS_source));
  }
  const int64_t source = sqlite3_column_int64(find, 0);
  sqlite3_finalize(find);

  sqlite3_stmt* movements = Prepare(
      db,
      "SELECT COUNT(*), SUM(mrr_change) FROM mrr_movements"
      " WHERE data_source_id = ?1 AND occurred_at < ?2");
  sqlite3_stmt* deltas = Prepare(
      db,
      "SELECT COUNT(*), SUM(past_due_mrr), SUM(mrr_active_customers),"
      " SUM(mrr_past_due_customers), SUM(lead_customers),"
      " SUM(active_customers), SUM(past_due_customers),"
      " SUM(cancelled_customers) FROM mrr_deltas"
      " WHERE data_source_id = ?1 AND at < ?2");

  const absl::Time now = absl::Now();
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time series_end =
      absl::FromCivil(absl::ToCivilMonth(now, utc) + 1, utc);
  struct Kind {
    const char* name;
    absl::Time until;
  };
  for (const Kind kind : {Kind{"GetMrr", now + absl::Microseconds(1)},
                          Kind{"GetMrrSeries", series_end}}) {
    const int64_t until = absl::ToUnixMicros(kind.until);
    std::vector<int64_t> latencies;
    int64_t rows = 0;
    const absl::Time warm_end = absl::Now() + absl::GetFlag(FLAGS_warmup);
    const absl::Time end = warm_end + absl::GetFlag(FLAGS_duration);
    for (absl::Time t = absl::Now(); t < end; t = absl::Now()) {
      rows = Aggregate(db, movements, source, until) +
             Aggregate(db, deltas, source, until);
      const absl::Time done = absl::Now();
      if (t >= warm_end) {
        latencies.push_back(absl::ToInt64Microseconds(done - t));
      }
    }
    if (latencies.empty()) Die(nullptr, "no scan in the window");
    std::printf(
        "%-12s bare scan of %lld rows: p50 %.2f ms, p99 %.2f ms (%zu scans)\n",
        kind.name, static_cast<long long>(rows),
        static_cast<double>(Percentile(latencies, 0.5)) / 1e3,
        static_cast<double>(Percentile(latencies, 0.99)) / 1e3,
        latencies.size());
    std::printf(
        "RESULT label=sqlite_mrr kind=%s p50_us=%lld p99_us=%lld scans=%zu "
        "rows=%lld\n",
        kind.name, static_cast<long long>(Percentile(latencies, 0.5)),
        static_cast<long long>(Percentile(latencies, 0.99)), latencies.size(),
        static_cast<long long>(rows));
  }
  sqlite3_finalize(movements);
  sqlite3_finalize(deltas);
  sqlite3_close(db);
  return 0;
}

}  // namespace
}  // namespace recurrent::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return recurrent::bench::Run();
}
