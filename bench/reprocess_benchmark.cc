// Reprocess benchmark (docs/performance.md, section "Reprocess"): how long
// saving a source's settings takes with the core over SQLite, compared with a
// bare SQLite scan of the rows it reads. Prints numbers; it is not a test.
//
//   reprocess_benchmark --db=/tmp/recurrent-bench/100k.db --customers=100000
//
// If --db does not exist, a child process first generates the synthetic
// source (bench/synthetic_source.h) there, so that the peak RSS printed
// at the end is that of the measured operations only. Then, on the source
// "bench" (settings KEEP), at --now:
//   bare scan          the reprocess's scan queries, stepping every row and
//                      reading every column, no objects built (run twice,
//                      the second is reported: both see a warm OS cache)
//   dry run            UpdateSettings KEEP -> AUTO_CHURN 14, dry_run
//   apply              UpdateSettings KEEP -> AUTO_CHURN 14
//   apply (reverse)    UpdateSettings AUTO_CHURN 14 -> KEEP
//   reprocess          ReprocessDataSource, nothing to change
// The database ends as it started (settings KEEP), so runs can repeat.
// --bare_scan_only stops after the bare scan (bench/million, the baseline of
// a reprocess run through recurrentd; it opens the database read-only).
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/synthetic_source.h"
#include "common/status_macros.h"
#include "core/store.h"
#include "persistence/sqlite_backend.h"
#include "persistence/sqlite_source_scan.h"

ABSL_FLAG(std::string, db, "/tmp/recurrent-bench/bench.db",
          "database file; generated if missing");
ABSL_FLAG(int, customers, 100000, "customers of the generated source");
ABSL_FLAG(int, threads, 0, "evaluating threads (0: one per core)");
ABSL_FLAG(bool, bare_scan_only, false,
          "only the bare scan of an existing database, read-only");
ABSL_FLAG(std::string, now, "2026-01-15T00:00:00Z",
          "the instant of the data and of the operations (RFC 3339)");

namespace recurrent::bench {
namespace {

using core::Store;
using persistence::SettingsImpact;
using persistence::SqliteBackend;

double PeakRssMb() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Runs the reprocess's scan queries on a fresh read-only connection,
// reading every column of every row; returns the number of rows.
absl::StatusOr<int64_t> BareScan(const std::string& path, int64_t source_key) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(raw);
    return absl::InternalError("cannot open the database");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, &sqlite3_close);
  // As the reprocess's scan connection.
  sqlite3_exec(raw, "PRAGMA cache_size = -32768", nullptr, nullptr, nullptr);
  sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
  int64_t rows = 0;
  int64_t checksum = 0;
  for (const std::string& sql :
       persistence::sqlite::SourceScanner::ScanQueries()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(raw));
    }
    sqlite3_bind_int64(stmt, 1, source_key);
    const int columns = sqlite3_column_count(stmt);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      ++rows;
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_TEXT) {
          checksum += sqlite3_column_bytes(stmt, c);
        } else {
          checksum += sqlite3_column_int64(stmt, c);
        }
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
  if (checksum == 42) std::printf(" ");  // keeps the reads
  return rows;
}

// The key of source `column` = `value` ("uuid" or "name").
absl::StatusOr<int64_t> SourceKey(const std::string& path,
                                  const std::string& column,
                                  const std::string& value) {
  sqlite3* raw = nullptr;
  sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, &sqlite3_close);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(
      raw, absl::StrCat("SELECT id FROM data_sources WHERE ", column, " = ?")
               .c_str(),
      -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, value.c_str(), -1, SQLITE_TRANSIENT);
  int64_t key = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) key = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (key == 0) return absl::NotFoundError("no bench source");
  return key;
}

void Report(const std::string& what, absl::Duration time, int64_t rows,
            absl::Duration bare_scan, const SettingsImpact& impact) {
  const double seconds = absl::ToDoubleSeconds(time);
  std::printf("[%s]\n", what.c_str());
  std::printf("  time:                 %.2f s\n", seconds);
  std::printf("  rows scanned:         %s\n", Thousands(rows).c_str());
  std::printf(
      "  customers per second: %s\n",
      Thousands(static_cast<int64_t>(impact.customers_reprocessed / seconds))
          .c_str());
  std::printf("  ratio to bare scan:   %.2f\n",
              seconds / absl::ToDoubleSeconds(bare_scan));
  std::printf(
      "  impact:               %s reprocessed, %s churns reversed, %s "
      "applied, %s statuses changed\n",
      Thousands(impact.customers_reprocessed).c_str(),
      Thousands(impact.auto_churns_reversed).c_str(),
      Thousands(impact.auto_churns_applied).c_str(),
      Thousands(impact.customers_status_changed).c_str());
  std::printf("  peak RSS so far:      %.0f MB\n", PeakRssMb());
  std::fflush(stdout);
}

absl::Status Generate(const std::string& path, int customers, absl::Time now) {
  std::printf("generating %s customers into %s\n", Thousands(customers).c_str(),
              path.c_str());
  std::fflush(stdout);
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("fork failed");
  if (child == 0) {
    SyntheticSourceOptions options;
    options.path = path;
    options.customers = customers;
    options.now = now;
    SyntheticSourceStats stats;
    const absl::Status status = GenerateSyntheticSource(options, stats);
    if (!status.ok()) {
      std::fprintf(stderr, "generation failed: %s\n",
                   status.ToString().c_str());
      _exit(1);
    }
    std::printf(
        "  %s customers, %s invoices, %s line items, %s transactions, %s "
        "subscriptions, %s cancellations\n",
        Thousands(stats.customers).c_str(), Thousands(stats.invoices).c_str(),
        Thousands(stats.line_items).c_str(),
        Thousands(stats.transactions).c_str(),
        Thousands(stats.subscriptions).c_str(),
        Thousands(stats.cancellations).c_str());
    std::fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::filesystem::remove(path);
    return absl::InternalError("generation failed");
  }
  return absl::OkStatus();
}

core::SettingsDecision To(core::PastDueHandling handling, absl::Time now) {
  return [handling, now](const core::SourceSettings&)
             -> absl::StatusOr<std::optional<core::NewSettings>> {
    return core::NewSettings{handling, now, ""};
  };
}

absl::Status Run() {
  const std::string path = absl::GetFlag(FLAGS_db);
  absl::Time now;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, absl::GetFlag(FLAGS_now), &now,
                       &error)) {
    return absl::InvalidArgumentError(absl::StrCat("--now: ", error));
  }
  if (absl::GetFlag(FLAGS_bare_scan_only)) {
    RECURRENT_ASSIGN_OR_RETURN(const int64_t source_key,
                               SourceKey(path, "name", kBenchSourceName));
    const absl::Time start = absl::Now();
    RECURRENT_ASSIGN_OR_RETURN(const int64_t rows, BareScan(path, source_key));
    const absl::Duration time = absl::Now() - start;
    std::printf("[bare scan]\n  time:                 %.2f s\n",
                absl::ToDoubleSeconds(time));
    std::printf("  rows scanned:         %s\n", Thousands(rows).c_str());
    std::printf("RESULT label=bare_scan seconds=%.2f rows=%lld\n",
                absl::ToDoubleSeconds(time), static_cast<long long>(rows));
    return absl::OkStatus();
  }
  if (!std::filesystem::exists(path)) {
    RECURRENT_RETURN_IF_ERROR(
        Generate(path, absl::GetFlag(FLAGS_customers), now));
  }
  SqliteBackend::Options options;
  options.path = path;
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteBackend> backend,
                             SqliteBackend::Open(options));
  Store::Options store_options;
  store_options.reprocess_threads = absl::GetFlag(FLAGS_threads);
  const auto storage =
      std::make_unique<Store>(backend.get(), store_options, nullptr);
  RECURRENT_ASSIGN_OR_RETURN(persistence::Page<core::DataSource> sources,
                             storage->ListDataSources({100, ""}));
  std::string uuid;
  for (const core::DataSource& source : sources.items) {
    if (source.name == kBenchSourceName) uuid = source.uuid;
  }
  RECURRENT_ASSIGN_OR_RETURN(const int64_t source_key,
                             SourceKey(path, "uuid", uuid));

  absl::Duration bare_scan;
  int64_t rows = 0;
  for (int i = 0; i < 2; ++i) {
    const absl::Time start = absl::Now();
    RECURRENT_ASSIGN_OR_RETURN(rows, BareScan(path, source_key));
    bare_scan = absl::Now() - start;
  }
  std::printf("[bare scan]\n  time:                 %.2f s\n",
              absl::ToDoubleSeconds(bare_scan));
  std::printf("  rows scanned:         %s\n", Thousands(rows).c_str());

  const core::PastDueHandling keep{core::PastDueMode::kKeep, 0};
  const core::PastDueHandling auto14{core::PastDueMode::kAutoChurn, 14};
  struct Step {
    std::string name;
    core::PastDueHandling to;
    bool dry_run;
  };
  for (const Step& step : {Step{"dry run KEEP -> AUTO_CHURN 14", auto14, true},
                           Step{"apply KEEP -> AUTO_CHURN 14", auto14, false},
                           Step{"apply AUTO_CHURN 14 -> KEEP", keep, false}}) {
    const absl::Time start = absl::Now();
    RECURRENT_ASSIGN_OR_RETURN(
        const Store::SettingsUpdate update,
        storage->UpdateSettings(uuid, To(step.to, now), step.dry_run, now));
    Report(step.name, absl::Now() - start, rows, bare_scan, update.impact);
  }
  const absl::Time start = absl::Now();
  RECURRENT_ASSIGN_OR_RETURN(const SettingsImpact impact,
                             storage->ReprocessDataSource(uuid, now));
  Report("reprocess, nothing changed", absl::Now() - start, rows, bare_scan,
         impact);
  std::printf("peak RSS: %.0f MB\n", PeakRssMb());
  return absl::OkStatus();
}

}  // namespace
}  // namespace recurrent::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = recurrent::bench::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
