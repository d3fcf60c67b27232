// Stored derived MRR (persistence/records.h, MrrWrite): each customer's
// movements and deltas, replaced whole by WriteMrr, and the sums GetMrr and
// GetMrrSeries read.
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors.
#ifndef RECURRENT_PERSISTENCE_SQLITE_MRR_H_
#define RECURRENT_PERSISTENCE_SQLITE_MRR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "engine/mrr_types.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// Replaces the MRR rows of customer `customer_key` with `write`'s and
// stores its digest.
absl::Status WriteMrr(Connection& db, int64_t customer_key,
                      const MrrWrite& write);

// Stored movements matching `filter`, by (occurred_at, id). kNotFound if a
// named customer or source is absent.
absl::StatusOr<Page<MrrMovementRow>> LoadMrrMovementPage(
    Connection& db, const MrrMovementFilter& filter, const PageRequest& page);

// ReadTransaction::SumMrr.
absl::StatusOr<std::vector<std::vector<MrrSums>>> SumMrrRows(
    Connection& db, absl::string_view data_source_uuid,
    absl::Span<const absl::Time> bounds);

// ReadTransaction::CustomersMrrAt; `known_keys` maps uuids to customer keys
// already read (others are looked up).
absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> LoadCustomersMrrAt(
    Connection& db, absl::Span<const std::string> customer_uuids,
    absl::Time t, const absl::flat_hash_map<std::string, int64_t>& known_keys);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_MRR_H_
