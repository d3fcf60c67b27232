// Reprocessing a whole data source: recomputing every customer that has a
// subscription in it (merged customers included, with the facts of all
// their sources) and measuring the exact impact.
//
// The pipeline: one thread streams customers from the backend's source scan
// (persistence::SourceScan) in chunks; a few threads evaluate each chunk
// with the engine (pure, so any number can run at once) and plan its writes
// and change-log rows (core/recompute.h); the calling thread applies them
// in customer order. At most a few chunks are in flight, so memory stays
// bounded whatever the size of the source.
#ifndef RECURRENT_CORE_REPROCESS_H_
#define RECURRENT_CORE_REPROCESS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/recompute.h"
#include "core/settings_changes.h"
#include "engine/settings.h"
#include "persistence/backend.h"
#include "persistence/records.h"

namespace recurrent::core {

struct ReprocessRequest {
  // The settings of every source to evaluate under ("after").
  engine::SettingsMap settings;
  // What "before" is for the impact: with settings, the same facts evaluated
  // at `now` under them; without, the stored state (stored AUTO_CHURNED
  // events at or before `now` and the stored customer status).
  std::optional<engine::SettingsMap> settings_before;
  absl::Time now;
  // With settings_before only: list the subscriptions whose status at `now`
  // or whose auto-churns differ between the two evaluations (the very
  // comparison the impact counts), keeping the first `max_listed_changes`
  // (core/settings_changes.h): each chunk in flight holds at most that
  // many, merged in order as chunks are consumed. Without it nothing is
  // collected.
  bool list_changes = false;
  int max_listed_changes = kMaxListedSettingsChanges;
  int threads = 1;             // evaluating threads, at least 1
  int chunk_customers = 1024;  // customers per chunk, at least 1
  // The scan and evaluation threads run at background priority
  // (core/background_priority.h); if no evaluated chunk comes for this long
  // and they got less than a twentieth of it in CPU time, they are promoted
  // for the rest of the call. Zero: promoted at the first wait.
  absl::Duration promote_after = absl::Milliseconds(250);
};

struct ReprocessResult {
  persistence::SettingsImpact impact;
  int64_t rows_scanned = 0;
  // With list_changes: the first max_listed_changes changed subscriptions
  // by (customer uuid, subscription uuid), and how many others changed.
  std::vector<SubscriptionChange> changes;
  int64_t changes_not_listed = 0;
};

// Called on the calling thread, in customer order, for every customer whose
// stored evaluation or published view changes.
using ApplyRecompute = std::function<absl::Status(const Recompute&)>;

// Reprocesses the customers `scan` streams (it is read on one internal
// thread meanwhile) per `request`, handing each non-empty recompute to
// `apply` (none for a dry run: pass nullptr). kInvalidArgument naming the
// customer if the engine rejects its facts, and if list_changes is set
// without settings_before; an error from `apply` stops the pipeline and is
// returned.
absl::StatusOr<ReprocessResult> ReprocessSource(persistence::SourceScan& scan,
                                                const ReprocessRequest& request,
                                                const ApplyRecompute& apply);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_REPROCESS_H_
