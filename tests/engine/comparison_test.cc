// engine::Compare and engine::PublishedAt: what an observer sees change
// between two evaluations (the settings impact and the change log use it).
#include "engine/comparison.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::IsEmpty;

PublishedEvent Event(absl::string_view sub, EventType type, absl::Time at) {
  return PublishedEvent{kSource, sub, type, at, UsualStatusAfter(type), 0};
}

// (subscription, type, instant, ordinal) of each event.
auto Key(const PublishedEvent& e) {
  return std::make_tuple(std::string(e.subscription_external_id), e.type,
                         e.occurred_at, e.ordinal);
}
std::vector<std::tuple<std::string, EventType, absl::Time, int>> Keys(
    const std::vector<PublishedEvent>& events) {
  std::vector<std::tuple<std::string, EventType, absl::Time, int>> keys;
  for (const PublishedEvent& e : events) keys.push_back(Key(e));
  return keys;
}

TEST(PublishedAtTest, HoldsTheStatusAndOnlyTheEventsThatHaveOccurred) {
  // An unpaid February invoice: past due from Feb 1, auto-churned 14 days
  // later under X=14.
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 2);
  facts.invoices[1].transactions.clear();
  const CustomerTimeline timeline = MustBuild(facts, AutoChurn(14));
  const Published feb_10 = PublishedAt(timeline, Day(2025, 2, 10));
  EXPECT_EQ(feb_10.status, CustomerStatus::kPastDue);
  EXPECT_THAT(
      Keys(feb_10.events),
      ElementsAre(FieldsAre(kSub, EventType::kStarted, Day(2025, 1, 1), 0),
                  FieldsAre(kSub, EventType::kPastDue, Day(2025, 2, 1), 0)));
  // The churn is published at its instant, not before.
  const Published churned = PublishedAt(timeline, Day(2025, 2, 15));
  EXPECT_EQ(churned.status, CustomerStatus::kCancelled);
  EXPECT_THAT(churned.events.back().type, EventType::kAutoChurned);
  EXPECT_THAT(
      PublishedAt(timeline, Day(2025, 2, 15) - kSecond).events.back().type,
      EventType::kPastDue);
}

TEST(CompareTest, SameViewsDifferInNothing) {
  Published view;
  view.status = CustomerStatus::kActive;
  view.events = {Event(kSub, EventType::kStarted, Day(2025, 1, 1))};
  const Comparison comparison = Compare(view, view);
  EXPECT_TRUE(comparison.empty());
  EXPECT_EQ(comparison.auto_churns_applied, 0);
  EXPECT_EQ(comparison.auto_churns_reversed, 0);
}

TEST(CompareTest, TellsAppearedDisappearedAndMovedEventsAndTheStatus) {
  Published before;
  before.status = CustomerStatus::kCancelled;
  before.events = {Event(kSub, EventType::kAutoChurned, Day(2025, 2, 15)),
                   Event(kSub, EventType::kStarted, Day(2025, 1, 1)),
                   Event(kSub, EventType::kPastDue, Day(2025, 2, 1))};
  Published after;
  after.status = CustomerStatus::kCancelled;
  // The churn moved (X=14 -> X=30); order of the input does not matter.
  after.events = {Event(kSub, EventType::kStarted, Day(2025, 1, 1)),
                  Event(kSub, EventType::kAutoChurned, Day(2025, 3, 3)),
                  Event(kSub, EventType::kPastDue, Day(2025, 2, 1))};
  Comparison comparison = Compare(before, after);
  EXPECT_FALSE(comparison.status_changed());
  EXPECT_THAT(Keys(comparison.appeared),
              ElementsAre(FieldsAre(kSub, EventType::kAutoChurned,
                                    Day(2025, 3, 3), 0)));
  EXPECT_THAT(Keys(comparison.disappeared),
              ElementsAre(FieldsAre(kSub, EventType::kAutoChurned,
                                    Day(2025, 2, 15), 0)));
  EXPECT_EQ(comparison.auto_churns_applied, 1);
  EXPECT_EQ(comparison.auto_churns_reversed, 1);

  // Back to KEEP: the churn disappears, the customer is past due again.
  after.status = CustomerStatus::kPastDue;
  after.events.erase(after.events.begin() + 1);
  comparison = Compare(before, after);
  EXPECT_TRUE(comparison.status_changed());
  EXPECT_EQ(comparison.status_before, CustomerStatus::kCancelled);
  EXPECT_EQ(comparison.status_after, CustomerStatus::kPastDue);
  EXPECT_THAT(comparison.appeared, IsEmpty());
  EXPECT_EQ(comparison.auto_churns_reversed, 1);
  EXPECT_EQ(comparison.auto_churns_applied, 0);
}

TEST(CompareTest, EventsOfOtherSubscriptionsOrSourcesAreOtherEvents) {
  Published before;
  before.events = {Event("sub_a", EventType::kStarted, Day(2025, 1, 1))};
  Published after;
  PublishedEvent elsewhere =
      Event("sub_a", EventType::kStarted, Day(2025, 1, 1));
  elsewhere.data_source_uuid = kOtherSource;
  after.events = {Event("sub_b", EventType::kStarted, Day(2025, 1, 1)),
                  elsewhere};
  const Comparison comparison = Compare(before, after);
  EXPECT_EQ(comparison.appeared.size(), 2u);
  EXPECT_THAT(
      Keys(comparison.disappeared),
      ElementsAre(FieldsAre("sub_a", EventType::kStarted, Day(2025, 1, 1), 0)));
}

TEST(CompareTest, IdenticalEventsCountAsAMultisetWithOrdinals) {
  // R9 never produces two identical events, but the comparison stays exact:
  // the ones that appear number on from those kept.
  Published one;
  one.events = {Event(kSub, EventType::kAutoChurned, Day(2025, 2, 15))};
  Published three = one;
  three.events.push_back(three.events[0]);
  three.events.push_back(three.events[0]);
  Comparison comparison = Compare(one, three);
  EXPECT_THAT(
      Keys(comparison.appeared),
      ElementsAre(
          FieldsAre(kSub, EventType::kAutoChurned, Day(2025, 2, 15), 1),
          FieldsAre(kSub, EventType::kAutoChurned, Day(2025, 2, 15), 2)));
  EXPECT_EQ(comparison.auto_churns_applied, 2);
  comparison = Compare(three, one);
  EXPECT_THAT(
      Keys(comparison.disappeared),
      ElementsAre(
          FieldsAre(kSub, EventType::kAutoChurned, Day(2025, 2, 15), 1),
          FieldsAre(kSub, EventType::kAutoChurned, Day(2025, 2, 15), 2)));
  EXPECT_EQ(comparison.auto_churns_reversed, 2);
}

TEST(CompareTest, SettingsImpactOfAReversalCountsEachChurnOnce) {
  // The same facts under X=14 and under KEEP: the churn is the whole
  // difference, and the status goes back to PAST_DUE.
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices(kSub, absl::CivilDay(2025, 1, 1), 2);
  facts.invoices[1].transactions.clear();
  const absl::Time now = Day(2025, 3, 1);
  const Comparison comparison =
      Compare(PublishedAt(MustBuild(facts, AutoChurn(14)), now),
              PublishedAt(MustBuild(facts, KeepSettings()), now));
  EXPECT_EQ(comparison.auto_churns_reversed, 1);
  EXPECT_EQ(comparison.auto_churns_applied, 0);
  EXPECT_EQ(comparison.status_before, CustomerStatus::kCancelled);
  EXPECT_EQ(comparison.status_after, CustomerStatus::kPastDue);
  EXPECT_THAT(comparison.appeared, IsEmpty());
}

// CompareSubscriptions: a settings change, subscription by subscription.

// "sub_1" (Jan-Apr) misses its February payment and is not renewed after
// April; "sub_2" (Jan-Jun) is always paid.
CustomerFacts TwoSubscriptions() {
  CustomerFacts facts;
  facts.invoices = MonthlyInvoices("sub_1", absl::CivilDay(2025, 1, 1), 4, "a");
  facts.invoices[1].transactions.clear();
  for (Invoice& invoice :
       MonthlyInvoices("sub_2", absl::CivilDay(2025, 1, 1), 6, "b")) {
    facts.invoices.push_back(std::move(invoice));
  }
  return facts;
}

TEST(CompareSubscriptionsTest, ListsTheSubscriptionsWhoseStatusOrChurnsChange) {
  const CustomerFacts facts = TwoSubscriptions();
  const absl::Time now = Day(2025, 6, 15);
  const CustomerTimeline keep = MustBuild(facts, KeepSettings());
  const CustomerTimeline auto14 = MustBuild(facts, AutoChurn(14));
  const Comparison comparison =
      Compare(PublishedAt(keep, now), PublishedAt(auto14, now));
  // sub_1 churns Feb 15 (reactivated Mar 1) and May 15 (after its last
  // period); sub_2 is untouched.
  std::vector<SubscriptionComparison> subscriptions =
      CompareSubscriptions(keep, auto14, now, comparison);
  ASSERT_EQ(subscriptions.size(), 1u);
  EXPECT_EQ(subscriptions[0].data_source_uuid, kSource);
  EXPECT_EQ(subscriptions[0].subscription_external_id, "sub_1");
  EXPECT_EQ(subscriptions[0].status_before, SubscriptionStatus::kPastDue);
  EXPECT_EQ(subscriptions[0].status_after, SubscriptionStatus::kCancelled);
  EXPECT_THAT(subscriptions[0].auto_churns_applied,
              ElementsAre(Day(2025, 2, 15), Day(2025, 5, 15)));
  EXPECT_THAT(subscriptions[0].auto_churns_reversed, IsEmpty());
  // The churns listed are the ones the comparison counts.
  EXPECT_EQ(comparison.auto_churns_applied, 2);
  EXPECT_EQ(comparison.auto_churns_reversed, 0);

  // X=14 -> X=30: both churns move (Mar 3, May 31), oldest first; the
  // status now stays CANCELLED.
  const CustomerTimeline auto30 = MustBuild(facts, AutoChurn(30));
  subscriptions = CompareSubscriptions(
      auto14, auto30, now,
      Compare(PublishedAt(auto14, now), PublishedAt(auto30, now)));
  ASSERT_EQ(subscriptions.size(), 1u);
  EXPECT_EQ(subscriptions[0].status_before, SubscriptionStatus::kCancelled);
  EXPECT_EQ(subscriptions[0].status_after, SubscriptionStatus::kCancelled);
  EXPECT_THAT(subscriptions[0].auto_churns_reversed,
              ElementsAre(Day(2025, 2, 15), Day(2025, 5, 15)));
  EXPECT_THAT(subscriptions[0].auto_churns_applied,
              ElementsAre(Day(2025, 3, 3), Day(2025, 5, 31)));

  // Back to KEEP: the churns are reversed, sub_1 is past due again.
  subscriptions = CompareSubscriptions(
      auto30, keep, now,
      Compare(PublishedAt(auto30, now), PublishedAt(keep, now)));
  ASSERT_EQ(subscriptions.size(), 1u);
  EXPECT_EQ(subscriptions[0].status_after, SubscriptionStatus::kPastDue);
  EXPECT_THAT(subscriptions[0].auto_churns_reversed,
              ElementsAre(Day(2025, 3, 3), Day(2025, 5, 31)));
  EXPECT_THAT(subscriptions[0].auto_churns_applied, IsEmpty());
}

TEST(CompareSubscriptionsTest, AChurnNotYetDueIsNotListed) {
  // At May 20 the X=30 churn of May 31 has not occurred: sub_1 is past due
  // either way and only the churns up to now differ.
  const CustomerFacts facts = TwoSubscriptions();
  const absl::Time now = Day(2025, 5, 20);
  const CustomerTimeline keep = MustBuild(facts, KeepSettings());
  const CustomerTimeline auto30 = MustBuild(facts, AutoChurn(30));
  const std::vector<SubscriptionComparison> subscriptions =
      CompareSubscriptions(
          keep, auto30, now,
          Compare(PublishedAt(keep, now), PublishedAt(auto30, now)));
  ASSERT_EQ(subscriptions.size(), 1u);
  EXPECT_EQ(subscriptions[0].status_before, SubscriptionStatus::kPastDue);
  EXPECT_EQ(subscriptions[0].status_after, SubscriptionStatus::kPastDue);
  EXPECT_THAT(subscriptions[0].auto_churns_applied,
              ElementsAre(Day(2025, 3, 3)));
}

TEST(CompareSubscriptionsTest, NothingChangedListsNothing) {
  const CustomerFacts facts = TwoSubscriptions();
  const CustomerTimeline keep = MustBuild(facts, KeepSettings());
  const absl::Time now = Day(2025, 6, 15);
  EXPECT_THAT(CompareSubscriptions(
                  keep, keep, now,
                  Compare(PublishedAt(keep, now), PublishedAt(keep, now))),
              IsEmpty());
}

}  // namespace
}  // namespace recurrent::engine::testing
