// Storage conformance: data sources and settings.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/storage.h"
#include "tests/persistence/storage_conformance.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence::testing {
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

TEST_P(StorageConformanceTest, CreateDataSourceStartsWithSettingsVersion1) {
  const absl::Time now = Tick();
  ASSERT_OK_AND_ASSIGN(DataSource created,
                       storage_->CreateDataSource("Stripe EU", "stripe", now));
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

  ASSERT_OK_AND_ASSIGN(DataSource got, storage_->GetDataSource(created.uuid));
  EXPECT_EQ(got.uuid, created.uuid);
  EXPECT_EQ(got.name, "Stripe EU");
  EXPECT_EQ(got.system, "stripe");
  EXPECT_EQ(got.created_at, now);
  EXPECT_EQ(got.settings.version, 1);
  EXPECT_EQ(got.settings.applied_at, now);
}

TEST_P(StorageConformanceTest, DataSourceIdsAreDistinct) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  EXPECT_NE(a.uuid, b.uuid);
}

TEST_P(StorageConformanceTest, GetUnknownDataSourceIsNotFound) {
  EXPECT_THAT(storage_->GetDataSource("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_nope")));
  EXPECT_THAT(storage_->GetSettings("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->ListSettingsHistory("ds_nope"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->DeleteDataSource("ds_nope", Tick()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StorageConformanceTest, DataSourceNamesAreUnique) {
  NewSource("billing");
  EXPECT_THAT(
      storage_->CreateDataSource("billing", "other", Tick()),
      StatusIs(absl::StatusCode::kAlreadyExists,
               ::testing::Eq("data source named 'billing' already exists")));
  // The rejected request changed nothing.
  ASSERT_OK_AND_ASSIGN(Page<DataSource> page, storage_->ListDataSources({}));
  EXPECT_THAT(Names(page.items), ElementsAre("billing"));
  // Names are case-sensitive and exact.
  EXPECT_OK(storage_->CreateDataSource("Billing", "custom", Tick()));
}

TEST_P(StorageConformanceTest, ListDataSourcesPagesInCreationOrder) {
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
                         storage_->ListDataSources(request));
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

TEST_P(StorageConformanceTest, ListDataSourcesExactPageHasNoNextToken) {
  NewSource("a");
  NewSource("b");
  PageRequest request;
  request.page_size = 2;
  ASSERT_OK_AND_ASSIGN(Page<DataSource> page,
                       storage_->ListDataSources(request));
  EXPECT_THAT(page.items, SizeIs(2));
  EXPECT_THAT(page.next_page_token, IsEmpty());
}

TEST_P(StorageConformanceTest, ListDataSourcesRejectsBadTokens) {
  NewSource("a");
  NewSource("b");
  NewSource("c");
  PageRequest request;
  request.page_token = "not a token!";
  EXPECT_THAT(
      storage_->ListDataSources(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  // A token from a customers query is not a data sources token.
  const DataSource source = NewSource("d");
  NewCustomer(source.uuid, "c1");
  NewCustomer(source.uuid, "c2");
  PageRequest customers_request;
  customers_request.page_size = 1;
  ASSERT_OK_AND_ASSIGN(Page<Customer> customers,
                       storage_->ListCustomers({}, customers_request));
  ASSERT_THAT(customers.next_page_token, Not(IsEmpty()));
  request.page_token = customers.next_page_token;
  EXPECT_THAT(
      storage_->ListDataSources(request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_P(StorageConformanceTest, PageSizeOutOfRangeIsInvalid) {
  PageRequest request;
  for (int size : {0, -1, 1001}) {
    request.page_size = size;
    EXPECT_THAT(
        storage_->ListDataSources(request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
    EXPECT_THAT(
        storage_->ListCustomers({}, request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  }
  request.page_size = 1000;
  EXPECT_OK(storage_->ListCustomers({}, request));
}

TEST_P(StorageConformanceTest, UpdateSettingsSavesANewVersion) {
  const DataSource source = NewSource("s");
  const absl::Time applied = now_ - absl::Hours(24);
  const absl::Time saved = Tick();
  std::optional<SourceSettings> seen;
  Storage::NewSettings next;
  next.past_due_handling = {PastDueMode::kAutoChurn, 30};
  next.applied_at = applied;
  ASSERT_OK_AND_ASSIGN(
      Storage::SettingsUpdate update,
      storage_->UpdateSettings(
          source.uuid,
          [&](const SourceSettings& current)
              -> absl::StatusOr<std::optional<Storage::NewSettings>> {
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
                       storage_->GetSettings(source.uuid));
  EXPECT_EQ(current.version, 2);
  EXPECT_EQ(current.past_due_handling.mode, PastDueMode::kAutoChurn);
  ASSERT_OK_AND_ASSIGN(DataSource got, storage_->GetDataSource(source.uuid));
  EXPECT_EQ(got.settings.version, 2);
  EXPECT_EQ(got.settings.past_due_handling.auto_churn_after_days, 30);

  // A third version; the history lists all, oldest first.
  next.past_due_handling = {PastDueMode::kKeep, 0};
  ASSERT_OK(storage_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings& current)
          -> absl::StatusOr<std::optional<Storage::NewSettings>> {
        EXPECT_EQ(current.version, 2);
        return next;
      },
      /*dry_run=*/false, Tick()));
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       storage_->ListSettingsHistory(source.uuid));
  ASSERT_THAT(history, SizeIs(3));
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].past_due_handling.mode, PastDueMode::kKeep);
  EXPECT_EQ(history[0].applied_at, source.created_at);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(history[1].impact.customers_reprocessed, 0);
  EXPECT_EQ(history[2].version, 3);
  EXPECT_EQ(history[2].past_due_handling.mode, PastDueMode::kKeep);
}

TEST_P(StorageConformanceTest, UpdateSettingsNulloptSavesNothing) {
  const DataSource source = NewSource("s");
  for (const bool dry_run : {false, true}) {
    ASSERT_OK_AND_ASSIGN(
        Storage::SettingsUpdate result,
        storage_->UpdateSettings(
            source.uuid,
            [](const SourceSettings&)
                -> absl::StatusOr<std::optional<Storage::NewSettings>> {
              return std::nullopt;
            },
            dry_run, Tick()));
    EXPECT_FALSE(result.applied);
    EXPECT_EQ(result.settings.version, 1);
    EXPECT_EQ(result.settings.saved_at, source.created_at);
    EXPECT_EQ(result.impact.customers_reprocessed, 0);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       storage_->ListSettingsHistory(source.uuid));
  EXPECT_THAT(history, SizeIs(1));
}

TEST_P(StorageConformanceTest, UpdateSettingsErrorAbortsWithNothingChanged) {
  const DataSource source = NewSource("s");
  EXPECT_THAT(storage_->UpdateSettings(
                  source.uuid,
                  [](const SourceSettings&)
                      -> absl::StatusOr<std::optional<Storage::NewSettings>> {
                    return absl::InvalidArgumentError(
                        "past_due_handling.auto_churn_after_days out of range");
                  },
                  /*dry_run=*/false, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq("past_due_handling.auto_churn_after_days "
                                     "out of range")));
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       storage_->ListSettingsHistory(source.uuid));
  EXPECT_THAT(history, SizeIs(1));
}

TEST_P(StorageConformanceTest, UpdateSettingsOfUnknownSourceIsNotFound) {
  bool called = false;
  EXPECT_THAT(storage_->UpdateSettings(
                  "ds_missing",
                  [&](const SourceSettings&)
                      -> absl::StatusOr<std::optional<Storage::NewSettings>> {
                    called = true;
                    return std::nullopt;
                  },
                  /*dry_run=*/false, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(called);
}

TEST_P(StorageConformanceTest, DeleteDataSourceRemovesItAndItsSettings) {
  const DataSource source = NewSource("doomed");
  const DataSource other = NewSource("kept");
  ASSERT_OK(storage_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings&)
          -> absl::StatusOr<std::optional<Storage::NewSettings>> {
        return Storage::NewSettings{{PastDueMode::kAutoChurn, 10}, now_, ""};
      },
      /*dry_run=*/false, Tick()));
  ASSERT_OK(storage_->DeleteDataSource(source.uuid, Tick()));
  EXPECT_THAT(storage_->GetDataSource(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->GetSettings(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->ListSettingsHistory(source.uuid),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->DeleteDataSource(source.uuid, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(storage_->GetDataSource(other.uuid));
  // The name is free again.
  EXPECT_OK(storage_->CreateDataSource("doomed", "custom", Tick()));
}

TEST_P(StorageConformanceTest, DataSurvivesReopen) {
  const DataSource source = NewSource("durable");
  ASSERT_OK(storage_->UpdateSettings(
      source.uuid,
      [&](const SourceSettings&)
          -> absl::StatusOr<std::optional<Storage::NewSettings>> {
        return Storage::NewSettings{{PastDueMode::kAutoChurn, 7}, now_, ""};
      },
      /*dry_run=*/false, Tick()));
  const Customer customer = NewCustomer(source.uuid, "ext-1", "a@example.com");
  ASSERT_OK(storage_->AddCustomerTags(customer.uuid, {"vip"}, Tick()));

  ASSERT_NO_FATAL_FAILURE(Reopen());

  ASSERT_OK_AND_ASSIGN(DataSource got, storage_->GetDataSource(source.uuid));
  EXPECT_EQ(got.name, "durable");
  EXPECT_EQ(got.settings.version, 2);
  EXPECT_EQ(got.settings.past_due_handling.auto_churn_after_days, 7);
  ASSERT_OK_AND_ASSIGN(Customer got_customer,
                       storage_->GetCustomer(customer.uuid));
  EXPECT_EQ(got_customer.email, "a@example.com");
  EXPECT_THAT(got_customer.tags, ElementsAre("vip"));
  // Uniqueness still holds after reopening.
  EXPECT_THAT(storage_->CreateDataSource("durable", "custom", Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

}  // namespace
}  // namespace recurrent::persistence::testing
