// One-shot evaluation of a customer at one instant.
#ifndef RECURRENT_ENGINE_EVALUATOR_H_
#define RECURRENT_ENGINE_EVALUATOR_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/settings.h"

namespace recurrent::engine {

// Returns the customer described by `facts` at instant `t`: every
// subscription's status, past_due_since, cancelled_at, reason, current period
// and events up to t, the customer status and derived tags, and
// next_transition_at (docs/semantics.md, R1-R9). Each subscription is judged
// under the settings of its own data source (default KEEP). Returns
// kInvalidArgument if the facts or a used source's settings are malformed.
//
// Equivalent to CustomerTimeline::Build(facts, settings)->EvaluateAt(t); to
// evaluate one customer at several instants, build the timeline once.
absl::StatusOr<CustomerEvaluation> Evaluate(const CustomerFacts& facts,
                                            const SettingsMap& settings,
                                            absl::Time t);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_EVALUATOR_H_
