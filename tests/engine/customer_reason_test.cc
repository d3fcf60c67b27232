// R7 reason rule: which subscription decides a customer's status, and the
// customer's status_reason.
#include "engine/customer_reason.h"

#include <vector>

#include "engine/evaluation.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine {
namespace {

using testing::Day;

SubscriptionEvaluation Sub(const char* id, SubscriptionStatus status,
                           std::optional<absl::Time> since = std::nullopt) {
  SubscriptionEvaluation s;
  s.data_source_uuid = "ds_a";
  s.subscription_external_id = id;
  s.status = status;
  if (status == SubscriptionStatus::kPastDue) s.past_due_since = since;
  if (status == SubscriptionStatus::kCancelled) s.cancelled_at = since;
  s.status_reason = absl::StrCat("reason of ", id, ".");
  return s;
}

// In creation order.
std::vector<SubscriptionForReason> InOrder(
    const std::vector<SubscriptionEvaluation>& subs) {
  std::vector<SubscriptionForReason> out;
  for (const SubscriptionEvaluation& s : subs) {
    out.push_back({&s, Day(2025, 1, 1)});
  }
  return out;
}

TEST(R7CustomerReasonTest, PastDueIsDecidedByTheEarliestPastDueSince) {
  const std::vector<SubscriptionEvaluation> subs = {
      Sub("a", SubscriptionStatus::kActive),
      Sub("b", SubscriptionStatus::kPastDue, Day(2025, 3, 1)),
      Sub("c", SubscriptionStatus::kPastDue, Day(2025, 2, 1)),
      Sub("d", SubscriptionStatus::kPastDue, Day(2025, 2, 1)),
  };
  EXPECT_EQ(DecidingSubscription(CustomerStatus::kPastDue, InOrder(subs)), 2u);
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kPastDue, InOrder(subs)),
            "Subscription c: reason of c.");
}

TEST(R7CustomerReasonTest, PastDueTiesGoToCreationOrder) {
  const std::vector<SubscriptionEvaluation> subs = {
      Sub("z", SubscriptionStatus::kPastDue, Day(2025, 2, 1)),
      Sub("a", SubscriptionStatus::kPastDue, Day(2025, 2, 1)),
  };
  EXPECT_EQ(DecidingSubscription(CustomerStatus::kPastDue, InOrder(subs)), 0u);
}

TEST(R7CustomerReasonTest, ActiveIsDecidedByTheFirstActiveInCreationOrder) {
  const std::vector<SubscriptionEvaluation> subs = {
      Sub("z", SubscriptionStatus::kCancelled, Day(2025, 5, 1)),
      Sub("y", SubscriptionStatus::kActive),
      Sub("a", SubscriptionStatus::kActive),
  };
  EXPECT_EQ(DecidingSubscription(CustomerStatus::kActive, InOrder(subs)), 1u);
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kActive, InOrder(subs)),
            "Subscription y: reason of y.");
}

TEST(R7CustomerReasonTest, CancelledIsDecidedByTheLastCancellation) {
  const std::vector<SubscriptionEvaluation> subs = {
      Sub("a", SubscriptionStatus::kCancelled, Day(2025, 2, 1)),
      Sub("b", SubscriptionStatus::kCancelled, Day(2025, 4, 1)),
      Sub("c", SubscriptionStatus::kCancelled, Day(2025, 4, 1)),
      Sub("d", SubscriptionStatus::kCancelled, Day(2025, 3, 1)),
  };
  EXPECT_EQ(DecidingSubscription(CustomerStatus::kCancelled, InOrder(subs)),
            1u);
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kCancelled, InOrder(subs)),
            "Subscription b: reason of b.");
}

TEST(R7CustomerReasonTest, LeadNamesTheEarliestComingStart) {
  EXPECT_EQ(DecidingSubscription(CustomerStatus::kLead, {}), std::nullopt);
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kLead, {}),
            "No subscription has started yet.");
  const std::vector<SubscriptionEvaluation> subs = {
      Sub("trial_only", SubscriptionStatus::kNotStarted),
      Sub("late", SubscriptionStatus::kNotStarted),
      Sub("soon", SubscriptionStatus::kNotStarted),
      Sub("also_soon", SubscriptionStatus::kNotStarted),
  };
  std::vector<SubscriptionForReason> in = {{&subs[0], std::nullopt},
                                           {&subs[1], Day(2025, 6, 1)},
                                           {&subs[2], Day(2025, 3, 1)},
                                           {&subs[3], Day(2025, 3, 1)}};
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kLead, in),
            "No subscription has started yet: subscription soon starts "
            "2025-03-01.");
  in.erase(in.begin() + 1, in.end());
  EXPECT_EQ(CustomerStatusReason(CustomerStatus::kLead, in),
            "No subscription has started yet.");
}

TEST(R7CustomerReasonTest, AgreesWithTheTimeline) {
  // One subscription past due since its unpaid invoice's due date: the
  // customer's reason is the subscription's.
  CustomerFacts facts;
  facts.invoices.push_back(testing::SubInvoice(
      "INV-1", testing::kSub, Day(2025, 1, 1), Day(2025, 2, 1),
      Day(2025, 1, 10), std::nullopt));
  const CustomerTimeline timeline =
      testing::MustBuild(facts, testing::KeepSettings());
  const CustomerEvaluation e = timeline.EvaluateAt(Day(2025, 1, 20));
  ASSERT_EQ(e.status, CustomerStatus::kPastDue);
  const SubscriptionForReason in[] = {
      {&e.subscriptions[0],
       timeline.subscriptions()[0].timeline.started_at()}};
  EXPECT_EQ(CustomerStatusReason(e.status, in),
            absl::StrCat("Subscription sub_1: ",
                         e.subscriptions[0].status_reason));
}

}  // namespace
}  // namespace recurrent::engine
