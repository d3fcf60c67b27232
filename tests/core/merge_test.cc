// Store tests (every backend): merging customers and deleting data sources.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

TEST_P(StoreTest, MergeMovesEverythingToInto) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer into = NewCustomer(a.uuid, "a-1");
  const Customer from = NewCustomer(b.uuid, "b-1");
  const Customer bystander = NewCustomer(a.uuid, "a-2");
  ASSERT_OK(store_->AddCustomerTags(into.uuid, {"shared", "into"}, Tick()));
  ASSERT_OK(store_->AddCustomerTags(from.uuid, {"shared", "from"}, Tick()));
  ASSERT_OK(store_->AddCustomerTags(bystander.uuid, {"by"}, Tick()));
  ASSERT_OK(store_->UpdateCustomer(
      into.uuid,
      [](Customer& c) {
        c.lead_created_at = absl::FromUnixSeconds(500);  // later than from's
        c.free_trial_started_at = absl::FromUnixSeconds(50);  // earlier
        return absl::OkStatus();
      },
      Tick()));
  ASSERT_OK(store_->UpdateCustomer(
      from.uuid,
      [](Customer& c) {
        c.lead_created_at = absl::FromUnixSeconds(100);
        c.free_trial_started_at = absl::FromUnixSeconds(60);
        return absl::OkStatus();
      },
      Tick()));

  const absl::Time when = Tick();
  ASSERT_OK_AND_ASSIGN(Customer merged,
                       store_->MergeCustomers(from.uuid, into.uuid, when));
  EXPECT_EQ(merged.uuid, into.uuid);
  EXPECT_EQ(merged.data_source_uuid, a.uuid);
  EXPECT_EQ(merged.external_id, "a-1");
  EXPECT_THAT(merged.external_ids, ElementsAre(ExternalId{a.uuid, "a-1"},
                                               ExternalId{b.uuid, "b-1"}));
  EXPECT_THAT(merged.tags, ElementsAre("from", "into", "shared"));
  EXPECT_EQ(merged.lead_created_at, absl::FromUnixSeconds(100));
  EXPECT_EQ(merged.free_trial_started_at, absl::FromUnixSeconds(50));
  EXPECT_EQ(merged.updated_at, when);
  EXPECT_EQ(merged.created_at, into.created_at);

  EXPECT_THAT(store_->GetCustomer(from.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(into.uuid));
  EXPECT_EQ(got.external_ids, merged.external_ids);
  EXPECT_EQ(got.tags, merged.tags);
  // A look-up by from's (source, external id) finds into.
  EXPECT_THAT(ListUuids(ByExternalId(b.uuid, "b-1")), ElementsAre(into.uuid));
  // Into now matches both sources.
  EXPECT_THAT(ListUuids(BySource(b.uuid)), ElementsAre(into.uuid));
  EXPECT_THAT(ListUuids(BySource(a.uuid)),
              ElementsAre(into.uuid, bystander.uuid));
  // The bystander is untouched.
  ASSERT_OK_AND_ASSIGN(Customer by, store_->GetCustomer(bystander.uuid));
  EXPECT_THAT(by.tags, ElementsAre("by"));
  EXPECT_THAT(by.external_ids, ElementsAre(ExternalId{a.uuid, "a-2"}));
}

TEST_P(StoreTest, MergeKeepsTheOnlySetDate) {
  const DataSource a = NewSource("a");
  const Customer into = NewCustomer(a.uuid, "1");
  const Customer from = NewCustomer(a.uuid, "2");
  ASSERT_OK(store_->UpdateCustomer(
      from.uuid,
      [](Customer& c) {
        c.lead_created_at = absl::FromUnixSeconds(700);
        return absl::OkStatus();
      },
      Tick()));
  ASSERT_OK(store_->UpdateCustomer(
      into.uuid,
      [](Customer& c) {
        c.free_trial_started_at = absl::FromUnixSeconds(800);
        return absl::OkStatus();
      },
      Tick()));
  ASSERT_OK_AND_ASSIGN(Customer merged,
                       store_->MergeCustomers(from.uuid, into.uuid, Tick()));
  EXPECT_EQ(merged.lead_created_at, absl::FromUnixSeconds(700));
  EXPECT_EQ(merged.free_trial_started_at, absl::FromUnixSeconds(800));
  // Same source: both external ids, primary first.
  EXPECT_THAT(merged.external_ids,
              ElementsAre(ExternalId{a.uuid, "1"}, ExternalId{a.uuid, "2"}));
}

TEST_P(StoreTest, MergeChainsAppendInOrder) {
  const DataSource a = NewSource("a");
  const Customer c1 = NewCustomer(a.uuid, "1");
  const Customer c2 = NewCustomer(a.uuid, "2");
  const Customer c3 = NewCustomer(a.uuid, "3");
  const Customer c4 = NewCustomer(a.uuid, "4");
  ASSERT_OK(store_->MergeCustomers(c4.uuid, c3.uuid, Tick()));  // 3,4
  ASSERT_OK(store_->MergeCustomers(c2.uuid, c1.uuid, Tick()));  // 1,2
  ASSERT_OK_AND_ASSIGN(Customer merged,
                       store_->MergeCustomers(c3.uuid, c1.uuid, Tick()));
  EXPECT_THAT(merged.external_ids,
              ElementsAre(ExternalId{a.uuid, "1"}, ExternalId{a.uuid, "2"},
                          ExternalId{a.uuid, "3"}, ExternalId{a.uuid, "4"}));
  EXPECT_THAT(ListUuids({}), ElementsAre(c1.uuid));
  // Four external ids in the source, still one customer.
  EXPECT_THAT(ListUuids(BySource(a.uuid), 1), ElementsAre(c1.uuid));
  EXPECT_THAT(ListUuids(ByExternalId("", "3")), ElementsAre(c1.uuid));
}

TEST_P(StoreTest, MergeRejectsMissingOrSameCustomers) {
  const DataSource a = NewSource("a");
  const Customer c1 = NewCustomer(a.uuid, "1");
  const Customer c2 = NewCustomer(a.uuid, "2");
  EXPECT_THAT(store_->MergeCustomers(c1.uuid, c1.uuid, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->MergeCustomers("cus_missing", c1.uuid, Tick()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_missing")));
  EXPECT_THAT(store_->MergeCustomers(c1.uuid, "cus_missing", Tick()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_missing")));
  // Nothing changed.
  ASSERT_OK_AND_ASSIGN(Customer got1, store_->GetCustomer(c1.uuid));
  ASSERT_OK_AND_ASSIGN(Customer got2, store_->GetCustomer(c2.uuid));
  EXPECT_THAT(got1.external_ids, SizeIs(1));
  EXPECT_THAT(got2.external_ids, SizeIs(1));
  EXPECT_EQ(got1.updated_at, c1.updated_at);
}

TEST_P(StoreTest, DeleteDataSourceCascadesToItsCustomers) {
  const DataSource doomed = NewSource("doomed");
  const DataSource kept = NewSource("kept");
  const Customer only_doomed = NewCustomer(doomed.uuid, "d-1");
  ASSERT_OK(store_->AddCustomerTags(only_doomed.uuid, {"t"}, Tick()));
  const Customer only_kept = NewCustomer(kept.uuid, "k-1");
  // A merged customer whose primary source is deleted keeps the other one.
  const Customer primary_doomed = NewCustomer(doomed.uuid, "d-2");
  const Customer merged_in = NewCustomer(kept.uuid, "k-2");
  ASSERT_OK(
      store_->MergeCustomers(merged_in.uuid, primary_doomed.uuid, Tick()));
  // And one whose secondary source is deleted.
  const Customer primary_kept = NewCustomer(kept.uuid, "k-3");
  const Customer secondary = NewCustomer(doomed.uuid, "d-3");
  ASSERT_OK(store_->MergeCustomers(secondary.uuid, primary_kept.uuid, Tick()));
  ASSERT_OK(store_->AddCustomerTags(primary_doomed.uuid, {"stay"}, Tick()));

  ASSERT_OK(store_->DeleteDataSource(doomed.uuid, Tick()));

  EXPECT_THAT(store_->GetCustomer(only_doomed.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Customer survivor,
                       store_->GetCustomer(primary_doomed.uuid));
  EXPECT_EQ(survivor.data_source_uuid, kept.uuid);
  EXPECT_EQ(survivor.external_id, "k-2");
  EXPECT_THAT(survivor.external_ids, ElementsAre(ExternalId{kept.uuid, "k-2"}));
  EXPECT_THAT(survivor.tags, ElementsAre("stay"));
  ASSERT_OK_AND_ASSIGN(Customer other, store_->GetCustomer(primary_kept.uuid));
  EXPECT_THAT(other.external_ids, ElementsAre(ExternalId{kept.uuid, "k-3"}));
  EXPECT_OK(store_->GetCustomer(only_kept.uuid));
  EXPECT_THAT(ListUuids({}),
              UnorderedElementsAre(only_kept.uuid, primary_doomed.uuid,
                                   primary_kept.uuid));
  EXPECT_THAT(store_->ListCustomers(BySource(doomed.uuid), {10, ""}),
              StatusIs(absl::StatusCode::kNotFound));

  // The source's external ids are free again in a new source of the name.
  const DataSource reborn = NewSource("doomed");
  EXPECT_NE(reborn.uuid, doomed.uuid);
  const Customer fresh = NewCustomer(reborn.uuid, "d-1");
  EXPECT_THAT(fresh.tags, IsEmpty());
}

// Source-wide work (a settings change, a reprocess, deleting a source)
// rewrites a merged customer's rows in all its sources, so it holds those
// sources' write locks too: another write to them waits, one to an
// unrelated source does not (contract point 3; on SQLite every write
// transaction waits for the one before).
TEST_P(StoreTest, SourceWideWorkHoldsTheOtherSourcesOfItsMergedCustomers) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer in_a = NewCustomer(a.uuid, "x");
  const Customer in_b = NewCustomer(b.uuid, "y");
  ASSERT_OK(store_->MergeCustomers(in_b.uuid, in_a.uuid, Tick()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<persistence::WriteTransaction> wide,
                       backend_->BeginWrite());
  ASSERT_OK(wide->LockSourceWithItsCustomers(a.uuid));
  std::atomic<bool> locked_b{false};
  std::thread other([&] {
    absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>> txn =
        backend_->BeginWrite();
    if (txn.ok() && (*txn)->LockSources({b.uuid}).ok()) locked_b = true;
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(locked_b) << "b's lock was taken while a's work held it";
  wide.reset();  // rolled back: its locks go
  other.join();
  EXPECT_TRUE(locked_b);
}

}  // namespace
}  // namespace recurrent::core::testing
