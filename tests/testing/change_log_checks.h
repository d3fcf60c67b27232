// The invariants of the change log, checked against the stored state.
#ifndef RECURRENT_TESTS_TESTING_CHANGE_LOG_CHECKS_H_
#define RECURRENT_TESTS_TESTING_CHANGE_LOG_CHECKS_H_

#include <string>

#include "absl/time/time.h"
#include "core/store.h"

namespace recurrent::testing {

// Checks the whole change log of `store` against its state as of `now` (its
// re-evaluator having run at `now`) and describes every violation, one per
// line; empty if none:
//  - sequences increase (committed_at need not: clocks may step back);
//  - for every customer the log names or the store holds, its publications
//    minus its retractions are exactly its ListSubscriptionEvents as of
//    `now` (uuids, types, instants and status_after), none published twice
//    or before it was due, none retracted unpublished or retracted as other
//    than it was published; a customer that no longer exists
//    has nothing left published;
//  - its status rows chain from LEAD (each previous status is the one the
//    row before reported) to its stored status.
std::string ChangeLogMismatches(core::Store& store, absl::Time now);

}  // namespace recurrent::testing

#endif  // RECURRENT_TESTS_TESTING_CHANGE_LOG_CHECKS_H_
