// Reprocessing a whole data source: recomputing every customer that has a
// subscription in it (merged customers included, with the facts of all
// their sources) and measuring the exact impact.
//
// The pipeline: one thread streams customers from the source's ordered
// scans (sqlite_source_scan.h) in chunks; a few threads evaluate each chunk
// with the engine (pure, so any number can run at once) and plan its writes
// (sqlite_evaluation_diff.h); the calling thread applies the planned writes
// in customer order. At most a few chunks are in flight, so memory stays
// bounded whatever the size of the source.
//
// Internal to SqliteStorage.
#ifndef RECURRENT_PERSISTENCE_SQLITE_REPROCESS_H_
#define RECURRENT_PERSISTENCE_SQLITE_REPROCESS_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/settings.h"
#include "persistence/sqlite_connection.h"
#include "persistence/sqlite_evaluation_diff.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

struct ReprocessRequest {
  int64_t source_key = 0;
  // The settings of every source to evaluate under ("after").
  engine::SettingsMap settings;
  // What "before" is for the impact: with settings, the same facts evaluated
  // at `now` under them; without, the stored state (stored AUTO_CHURNED
  // events and stored customer status).
  std::optional<engine::SettingsMap> settings_before;
  absl::Time now;
  int threads = 1;             // evaluating threads, at least 1
  int chunk_customers = 1024;  // customers per chunk, at least 1
  // The scan and evaluation threads run at idle priority; if no evaluated
  // chunk comes for this long and they got less than a twentieth of it in
  // CPU time, they are raised to nice 10 for the rest of the call (see
  // RunAsBackgroundThread in the .cc). Zero: raised at the first wait.
  absl::Duration promote_after = absl::Milliseconds(250);
};

struct ReprocessResult {
  SettingsImpact impact;
  int64_t rows_scanned = 0;
};

// Reprocesses the source per `request`: scans on `scan_db` (which must hold
// a read transaction for the whole call, and is used by one internal thread
// meanwhile) and, if `writer` is not null, writes what changed with it on
// the calling thread (inside the caller's write transaction, on another
// connection). With a null `writer` nothing is written (a dry run).
// kInvalidArgument naming the customer if the engine rejects its facts; on
// any error, the writes made so far are for the caller to roll back.
absl::StatusOr<ReprocessResult> ReprocessSource(
    Connection& scan_db, EvaluationWriter* writer,
    const ReprocessRequest& request);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_REPROCESS_H_
