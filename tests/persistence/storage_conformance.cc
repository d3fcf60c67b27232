#include "tests/persistence/storage_conformance.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence::testing {

std::string StorageBackendName(
    const ::testing::TestParamInfo<StorageBackend>& info) {
  return info.param.name;
}

std::string MakeTempDir() {
  std::string pattern = absl::StrCat(::testing::TempDir(), "recurrent_XXXXXX");
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
  return pattern;
}

void StorageConformanceTest::SetUp() {
  dir_ = MakeTempDir();
  ASSERT_OK_AND_ASSIGN(storage_, GetParam().open(dir_));
}

void StorageConformanceTest::TearDown() {
  storage_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void StorageConformanceTest::Reopen() {
  storage_.reset();
  ASSERT_OK_AND_ASSIGN(storage_, GetParam().open(dir_));
}

DataSource StorageConformanceTest::NewSource(const std::string& name) {
  absl::StatusOr<DataSource> source =
      storage_->CreateDataSource(name, "custom", Tick());
  EXPECT_OK(source);
  return source.ok() ? *std::move(source) : DataSource{};
}

Customer StorageConformanceTest::NewCustomer(const std::string& source_uuid,
                                             const std::string& external_id,
                                             const std::string& email) {
  Customer customer;
  customer.data_source_uuid = source_uuid;
  customer.external_id = external_id;
  customer.email = email;
  customer.name = absl::StrCat("Customer ", external_id);
  absl::StatusOr<Customer> created = storage_->CreateCustomer(customer, Tick());
  EXPECT_OK(created);
  return created.ok() ? *std::move(created) : Customer{};
}

std::vector<std::string> StorageConformanceTest::ListUuids(
    const CustomerFilter& filter, int page_size) {
  std::vector<std::string> uuids;
  for (const Customer& customer : ListAll(filter, page_size)) {
    uuids.push_back(customer.uuid);
  }
  return uuids;
}

namespace {

// Every item of a paged listing; `list(page)` returns one page.
template <typename T, typename List>
std::vector<T> ListPages(int page_size, const List& list) {
  std::vector<T> all;
  PageRequest page;
  page.page_size = page_size;
  for (int pages = 0; pages < 10'000; ++pages) {
    absl::StatusOr<Page<T>> result = list(page);
    EXPECT_OK(result);
    if (!result.ok()) break;
    for (T& item : result->items) all.push_back(std::move(item));
    if (result->next_page_token.empty()) break;
    page.page_token = result->next_page_token;
  }
  return all;
}

}  // namespace

std::vector<Invoice> StorageConformanceTest::ListAllInvoices(
    const InvoiceFilter& filter, int page_size) {
  return ListPages<Invoice>(page_size, [&](const PageRequest& page) {
    return storage_->ListInvoices(filter, page);
  });
}

std::vector<SubscriptionEvent> StorageConformanceTest::ListAllEvents(
    const EventFilter& filter, int page_size) {
  return ListPages<SubscriptionEvent>(page_size, [&](const PageRequest& page) {
    return storage_->ListSubscriptionEvents(filter, page);
  });
}

std::vector<Customer> StorageConformanceTest::ListAll(
    const CustomerFilter& filter, int page_size) {
  return ListPages<Customer>(page_size, [&](const PageRequest& page) {
    return storage_->ListCustomers(filter, page);
  });
}

absl::Time StorageConformanceTest::Tick() {
  now_ += absl::Seconds(1);
  return now_;
}

}  // namespace recurrent::persistence::testing
