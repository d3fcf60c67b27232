// Store tests (every backend): data sources and settings.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::IsOk;
using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

std::vector<std::string> Names(const std::vector<DataSource>& sources) {
  std::vector<std::string> names;
  for (const DataSource& source : sources) names.push_back(source.name);
  return names;
}

TEST_P(StoreTest, CreateDataSourceStartsWithSettingsVersion1) {
  const absl::Time now = Tick();
  ASSERT_OK_AND_ASSIGN(DataSource created,
                       store_->CreateDataSource("Stripe EU", "stripe", now));
  EXPECT_THAT(created.uuid, ::testing::StartsWith("ds_"));
  EXPECT_EQ(created.name, "Stripe EU");
  EXPECT_EQ(created.system, "stripe");
  EXPECT_EQ(created.created_at, now);
  EXPECT_EQ(created.settings.data_source_uuid, created.uuid);
  EXPECT_EQ(created.settings.version, 1);
  EXPECT_EQ(created.settings.past_due_handling.mode, PastDueMode::kKeep);
  EXPECT_EQ(created.settings.past_due_handling.auto_churn_after_days, 0);
  EXPECT_EQ(created.settings.applied_at, now);
  EXPECT_EQ(created.settings.saved_at, now);

  ASSERT_OK_AND_ASSIGN(DataSource got, store_->GetDataSource(created.uuid));
  EXPECT_EQ(got.uuid, created.uuid);
  EXPECT_EQ(got.name, "Stripe EU");
  EXPECT_EQ(got.system, "stripe");
  EXPECT_EQ(got.created_at, now);
  EXPECT_EQ(got.settings.version, 1);
  EXPECT_EQ(got.settings.applied_at, now);
}

TEST_P(StoreTest, DataSourceIdsAreDistinct) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  EXPECT_NE(a.uuid, b.uuid);
}

TEST_P(StoreTest, GetUnknownDataSourceIsNotFound) {
  EXPECT_THAT(store_->GetDataSource("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_nope")));
  EXPECT_THAT(store_->GetSettings("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListSettingsHistory("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteDataSource("ds_nope", Tick()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, DataSourceNamesAreUnique) {
  NewSource("billing");
  EXPECT_THAT(
      store_->CreateDataSource("billing", "other", Tick()),
      StatusIs(absl::StatusCode::kAlreadyExists,
               ::testing::Eq("data source named 'billing' already exists")));
  // The rejected request changed nothing.
  ASSERT_OK_AND_ASSIGN(Page<DataSource> page, store_->ListDataSources({}));
  EXPECT_THAT(Names(page.items), ElementsAre("billing"));
  // Names are case-sensitive and exact.
  EXPECT_OK(store_->CreateDataSource("Billing", "custom", Tick()));
}

TEST_P(StoreTest, ListDataSourcesPagesInCreationOrder) {
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    created.push_back(NewSource(absl::StrCat("z-source-", 7 - i)).name);
  }
  std::vector<std::string> seen;
  PageRequest request;
  request.page_size = 3;
  std::vector<size_t> page_sizes;
  while (true) {
    ASSERT_OK_AND_ASSIGN(Page<DataSource> page,
                         store_->ListDataSources(request));
    page_sizes.push_back(page.items.size());
    for (const std::string& name : Names(page.items)) seen.push_back(name);
    if (page.next_page_token.empty()) break;
    request.page_token = page.next_page_token;
    if (page_sizes.size() == 2) NewSource("late");  // survives inserts
  }
  created.push_back("late");
  EXPECT_EQ(seen, created);
  EXPECT_THAT(page_sizes, ElementsAre(3, 3, 2));
}

TEST_P(StoreTest, ListDataSourcesExactPageHasNoNextToken) {
  NewSource("a");
  NewSource("b");
  PageRequest request;
  request.page_size = 2;
  ASSERT_OK_AND_ASSIGN(Page<DataSource> page, store_->ListDataSources(request));
  EXPECT_THAT(page.items, SizeIs(2));
  EXPECT_THAT(page.next_page_token, IsEmpty());
}

TEST_P(StoreTest, ListDataSourcesRejectsBadTokens) {
  NewSource("a");
  NewSource("b");
  NewSource("c");
  PageRequest request;
  request.page_token = "not a token!";
  EXPECT_THAT(
      store_->ListDataSources(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  // A token from a customers query is not a data sources token.
  const DataSource source = NewSource("d");
  NewCustomer(source.uuid, "c1");
  NewCustomer(source.uuid, "c2");
  PageRequest customers_request;
  customers_request.page_size = 1;
  ASSERT_OK_AND_ASSIGN(Page<Customer> customers,
                       store_->ListCustomers({}, customers_request));
  ASSERT_THAT(customers.next_page_token, Not(IsEmpty()));
  request.page_token = customers.next_page_token;
  EXPECT_THAT(
      store_->ListDataSources(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_P(StoreTest, PageSizeOutOfRangeIsInvalid) {
  PageRequest request;
  for (int size : {0, -1, 1001}) {
    request.page_size = size;
    EXPECT_THAT(
        store_->ListDataSources(request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
    EXPECT_THAT(
        store_->ListCustomers({}, request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  }
  request.page_size = 1000;
  EXPECT_OK(store_->ListCustomers({}, request));
}

TEST_P(StoreTest, UpdateSettingsSavesANewVersion) {
  const DataSource source = NewSource("s");
  const absl::Time applied = now_ - absl::Hours(24);
  const absl::Time saved = Tick();
  std::optional<SourceSettings> seen;
  NewSettings next;
  next.past_due_handling = {PastDueMode::kAutoChurn, 30};
  next.applied_at = applied;
  ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate update,
                       store_->UpdateSettings(
                           source.uuid,
                           [&](const SourceSettings& current)
                               -> absl::StatusOr<std::optional<NewSettings>> {
                             seen = current;
                             return next;
                           },
                           /*dry_run=*/false, saved));
  EXPECT_TRUE(update.applied);
  const SourceSettings& updated = update.settings;
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->version, 1);
  EXPECT_EQ(updated.version, 2);
  EXPECT_EQ(updated.data_source_uuid, source.uuid);
  EXPECT_EQ(updated.past_due_handling,
            (PastDueHandling{PastDueMode::kAutoChurn, 30}));
  EXPECT_EQ(updated.applied_at, applied);
  EXPECT_EQ(updated.saved_at, saved);
  // No customers: nothing to reprocess.
  EXPECT_EQ(updated.impact.customers_reprocessed, 0);
  EXPECT_EQ(update.impact.customers_reprocessed, 0);

  ASSERT_OK_AND_ASSIGN(SourceSettings current,
                       store_->GetSettings(source.uuid));
  EXPECT_EQ(current.version, 2);
  EXPECT_EQ(current.past_due_handling.mode, PastDueMode::kAutoChurn);
  ASSERT_OK_AND_ASSIGN(DataSource got, store_->GetDataSource(source.uuid));
  EXPECT_EQ(got.settings.version, 2);
  EXPECT_EQ(got.settings.past_due_handling.auto_churn_after_days, 30);

  // A third version; the history lists all, oldest first.
  next.past_due_handling = {PastDueMode::kKeep, 0};
  ASSERT_OK(store_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings& current)
          -> absl::StatusOr<std::optional<NewSettings>> {
        EXPECT_EQ(current.version, 2);
        return next;
      },
      /*dry_run=*/false, Tick()));
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(source.uuid));
  ASSERT_THAT(history, SizeIs(3));
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].past_due_handling.mode, PastDueMode::kKeep);
  EXPECT_EQ(history[0].applied_at, source.created_at);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(history[1].impact.customers_reprocessed, 0);
  EXPECT_EQ(history[2].version, 3);
  EXPECT_EQ(history[2].past_due_handling.mode, PastDueMode::kKeep);
}

// A request that waited for the source's lock (or came from a replica whose
// clock is behind) may carry an instant before the version it follows: the
// history's saved_at never goes back.
TEST_P(StoreTest, AVersionIsNeverSavedBeforeTheOneItFollows) {
  const DataSource source = NewSource("s");
  const absl::Time early = Tick();
  const absl::Time late = Tick();
  const auto save = [&](PastDueHandling handling, absl::Time now) {
    return store_->UpdateSettings(
        source.uuid,
        [&](const SourceSettings&)
            -> absl::StatusOr<std::optional<NewSettings>> {
          return NewSettings{handling, early, ""};
        },
        /*dry_run=*/false, now);
  };
  ASSERT_OK(save({PastDueMode::kAutoChurn, 30}, late).status());
  ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate second,
                       save({PastDueMode::kKeep, 0}, early));
  EXPECT_EQ(second.settings.saved_at, late);
  EXPECT_EQ(second.settings.applied_at, early);  // as decided
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(source.uuid));
  ASSERT_THAT(history, SizeIs(3));
  EXPECT_EQ(history[2].saved_at, late);
}

TEST_P(StoreTest, UpdateSettingsNulloptSavesNothing) {
  const DataSource source = NewSource("s");
  for (const bool dry_run : {false, true}) {
    ASSERT_OK_AND_ASSIGN(Store::SettingsUpdate result,
                         store_->UpdateSettings(
                             source.uuid,
                             [](const SourceSettings&)
                                 -> absl::StatusOr<std::optional<NewSettings>> {
                               return std::nullopt;
                             },
                             dry_run, Tick()));
    EXPECT_FALSE(result.applied);
    EXPECT_EQ(result.settings.version, 1);
    EXPECT_EQ(result.settings.saved_at, source.created_at);
    EXPECT_EQ(result.impact.customers_reprocessed, 0);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(source.uuid));
  EXPECT_THAT(history, SizeIs(1));
}

TEST_P(StoreTest, UpdateSettingsErrorAbortsWithNothingChanged) {
  const DataSource source = NewSource("s");
  EXPECT_THAT(store_->UpdateSettings(
                  source.uuid,
                  [](const SourceSettings&)
                      -> absl::StatusOr<std::optional<NewSettings>> {
                    return absl::InvalidArgumentError(
                        "past_due_handling.auto_churn_after_days out of range");
                  },
                  /*dry_run=*/false, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq("past_due_handling.auto_churn_after_days "
                                     "out of range")));
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(source.uuid));
  EXPECT_THAT(history, SizeIs(1));
}

TEST_P(StoreTest, UpdateSettingsOfUnknownSourceIsNotFound) {
  bool called = false;
  EXPECT_THAT(store_->UpdateSettings(
                  "ds_missing",
                  [&](const SourceSettings&)
                      -> absl::StatusOr<std::optional<NewSettings>> {
                    called = true;
                    return std::nullopt;
                  },
                  /*dry_run=*/false, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(called);
}

TEST_P(StoreTest, DeleteDataSourceRemovesItAndItsSettings) {
  const DataSource source = NewSource("doomed");
  const DataSource other = NewSource("kept");
  ASSERT_OK(store_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings&) -> absl::StatusOr<std::optional<NewSettings>> {
        return NewSettings{{PastDueMode::kAutoChurn, 10}, now_, ""};
      },
      /*dry_run=*/false, Tick()));
  ASSERT_OK(store_->DeleteDataSource(source.uuid, Tick()));
  EXPECT_THAT(store_->GetDataSource(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetSettings(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListSettingsHistory(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteDataSource(source.uuid, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(store_->GetDataSource(other.uuid));
  // The name is free again.
  EXPECT_OK(store_->CreateDataSource("doomed", "custom", Tick()));
}

TEST_P(StoreTest, DataSurvivesReopen) {
  const DataSource source = NewSource("durable");
  ASSERT_OK(store_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings&) -> absl::StatusOr<std::optional<NewSettings>> {
        return NewSettings{{PastDueMode::kAutoChurn, 7}, now_, ""};
      },
      /*dry_run=*/false, Tick()));
  const Customer customer = NewCustomer(source.uuid, "ext-1", "a@example.com");
  ASSERT_OK(store_->AddCustomerTags(customer.uuid, {"vip"}, Tick()));

  ASSERT_NO_FATAL_FAILURE(Reopen());

  ASSERT_OK_AND_ASSIGN(DataSource got, store_->GetDataSource(source.uuid));
  EXPECT_EQ(got.name, "durable");
  EXPECT_EQ(got.settings.version, 2);
  EXPECT_EQ(got.settings.past_due_handling.auto_churn_after_days, 7);
  ASSERT_OK_AND_ASSIGN(Customer got_customer,
                       store_->GetCustomer(customer.uuid));
  EXPECT_EQ(got_customer.email, "a@example.com");
  EXPECT_THAT(got_customer.tags, ElementsAre("vip"));
  // Uniqueness still holds after reopening.
  EXPECT_THAT(store_->CreateDataSource("durable", "custom", Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

}  // namespace
}  // namespace recurrent::core::testing
