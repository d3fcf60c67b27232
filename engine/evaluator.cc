#include "engine/evaluator.h"

#include "common/status_macros.h"
#include "engine/customer_timeline.h"

namespace recurrent::engine {

absl::StatusOr<CustomerEvaluation> Evaluate(const CustomerFacts& facts,
                                            const SettingsMap& settings,
                                            absl::Time t) {
  RECURRENT_ASSIGN_OR_RETURN(const CustomerTimeline timeline,
                             CustomerTimeline::Build(facts, settings));
  return timeline.EvaluateAt(t);
}

}  // namespace recurrent::engine
