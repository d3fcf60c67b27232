// SubscriptionChanges: the bounded list of a settings change's changed
// subscriptions (core/settings_changes.h).
#include "core/settings_changes.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recurrent::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

SubscriptionChange Change(const std::string& customer,
                          const std::string& subscription) {
  SubscriptionChange change;
  change.customer_uuid = customer;
  change.subscription_uuid = subscription;
  return change;
}

std::vector<std::string> Names(std::vector<SubscriptionChange> changes) {
  std::vector<std::string> names;
  for (const SubscriptionChange& c : changes) {
    names.push_back(absl::StrCat(c.customer_uuid, "/", c.subscription_uuid));
  }
  return names;
}

TEST(SubscriptionChangesTest, KeepsTheFirstByCustomerThenSubscription) {
  SubscriptionChanges changes(3);
  for (const auto& [customer, subscription] :
       std::vector<std::pair<std::string, std::string>>{{"cus_b", "sub_1"},
                                                        {"cus_c", "sub_0"},
                                                        {"cus_a", "sub_9"},
                                                        {"cus_b", "sub_0"},
                                                        {"cus_d", "sub_0"},
                                                        {"cus_a", "sub_2"}}) {
    changes.Add(Change(customer, subscription));
  }
  EXPECT_EQ(changes.not_listed(), 3);
  EXPECT_THAT(Names(std::move(changes).Take()),
              ElementsAre("cus_a/sub_2", "cus_a/sub_9", "cus_b/sub_0"));
}

TEST(SubscriptionChangesTest, MergingKeepsTheFirstOfBothAndCountsTheRest) {
  SubscriptionChanges total(2);
  SubscriptionChanges one(2);
  one.Add(Change("cus_c", "sub_1"));
  one.Add(Change("cus_e", "sub_1"));
  one.Add(Change("cus_d", "sub_1"));  // left out by `one`
  SubscriptionChanges two(2);
  two.Add(Change("cus_b", "sub_1"));
  two.Add(Change("cus_f", "sub_1"));
  total.Merge(std::move(one));
  total.Merge(std::move(two));
  // 5 added in all: 2 kept, 3 counted.
  EXPECT_EQ(total.not_listed(), 3);
  EXPECT_THAT(Names(std::move(total).Take()),
              ElementsAre("cus_b/sub_1", "cus_c/sub_1"));
}

TEST(SubscriptionChangesTest, ALimitOfZeroOnlyCounts) {
  SubscriptionChanges changes(0);
  changes.Add(Change("cus_a", "sub_1"));
  changes.Add(Change("cus_b", "sub_1"));
  EXPECT_EQ(changes.not_listed(), 2);
  EXPECT_THAT(std::move(changes).Take(), IsEmpty());
}

TEST(SubscriptionChangesTest, TheApiCapIsAThousand) {
  EXPECT_EQ(kMaxListedSettingsChanges, 1000);
}

}  // namespace
}  // namespace recurrent::core
