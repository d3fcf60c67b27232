// The derived MRR rows of one customer (persistence/records.h, MrrWrite):
// what a recompute stores so that GetMrr, ListMrrMovements and GetMrrSeries
// read sums instead of evaluating customers.
//
//   persistence::MrrWrite rows = PlanMrrRows(state, timeline);
//   if (state.mrr_digest != rows.digest) write.mrr = std::move(rows);
//
// Pure: safe on any thread.
#ifndef RECURRENT_CORE_MRR_ROWS_H_
#define RECURRENT_CORE_MRR_ROWS_H_

#include "engine/customer_timeline.h"
#include "persistence/records.h"

namespace recurrent::core {

// The customer's MRR rows under `timeline` (built from state.facts): its
// movements (engine::MrrTimeline::movements()) and the deltas of what it
// counts for at every instant, in every scope: each data source it has an
// external id or MRR in, and all of them together. At each instant and in
// each scope it counts as LEAD or CANCELLED if its status (R7) is that,
// and, in each currency in which its MRR in the scope is > 0, as an ACTIVE
// or PAST_DUE customer if its status is that; the PAST_DUE part of the MRR
// is that of its subscriptions that are PAST_DUE. The digest identifies
// the rows (and the version of this derivation).
persistence::MrrWrite PlanMrrRows(const persistence::CustomerState& state,
                                  const engine::CustomerTimeline& timeline);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_MRR_ROWS_H_
