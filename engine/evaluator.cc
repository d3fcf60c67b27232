#include "engine/evaluator.h"

#include "engine/customer_timeline.h"
#include "engine/status_macros.h"

namespace recurrent::engine {

absl::StatusOr<CustomerEvaluation> Evaluate(const CustomerFacts& facts,
                                            const SettingsMap& settings,
                                            absl::Time t) {
  ASSIGN_OR_RETURN(const CustomerTimeline timeline,
                   CustomerTimeline::Build(facts, settings));
  return timeline.EvaluateAt(t);
}

}  // namespace recurrent::engine
