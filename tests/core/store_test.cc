#include "tests/core/store_test.h"

#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

absl::StatusOr<CustomerSnapshot> LoadSnapshot(persistence::Backend& backend,
                                              absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             backend.BeginRead());
  RECURRENT_ASSIGN_OR_RETURN(persistence::CustomerState state,
                             txn->LoadCustomerState(uuid, false));
  CustomerSnapshot snapshot;
  snapshot.customer = std::move(state.customer);
  snapshot.facts = std::move(state.facts);
  RECURRENT_ASSIGN_OR_RETURN(snapshot.settings, ToSettingsMap(state.settings));
  for (persistence::SubscriptionRow& row : state.subscriptions) {
    snapshot.subscriptions.push_back(std::move(row.ref));
  }
  return snapshot;
}

void StoreTest::SetUp() {
  dir_ = ::recurrent::testing::MakeTempDir();
  ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
  store_ = std::make_unique<Store>(backend_.get(), Store::Options(), nullptr);
}

void StoreTest::TearDown() {
  store_.reset();
  backend_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void StoreTest::Reopen() {
  store_.reset();
  backend_.reset();
  ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
  store_ = std::make_unique<Store>(backend_.get(), Store::Options(), nullptr);
}

DataSource StoreTest::NewSource(const std::string& name) {
  absl::StatusOr<DataSource> source =
      store_->CreateDataSource(name, "custom", Tick());
  EXPECT_OK(source);
  return source.ok() ? *std::move(source) : DataSource{};
}

Customer StoreTest::NewCustomer(const std::string& source_uuid,
                                const std::string& external_id,
                                const std::string& email) {
  Customer customer;
  customer.data_source_uuid = source_uuid;
  customer.external_id = external_id;
  customer.email = email;
  customer.name = absl::StrCat("Customer ", external_id);
  absl::StatusOr<Customer> created = store_->CreateCustomer(customer, Tick());
  EXPECT_OK(created);
  return created.ok() ? *std::move(created) : Customer{};
}

std::vector<std::string> StoreTest::ListUuids(const CustomerFilter& filter,
                                              int page_size) {
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

std::vector<Invoice> StoreTest::ListAllInvoices(const InvoiceFilter& filter,
                                                int page_size,
                                                std::optional<OpenAt> open_at) {
  return ListPages<Invoice>(page_size, [&](const PageRequest& page) {
    absl::StatusOr<Page<Invoice>> result =
        store_->ListInvoices(filter, page, open_at);
    if (result.ok()) {
      EXPECT_LE(result->items.size(), static_cast<size_t>(page_size));
    }
    return result;
  });
}

std::vector<SubscriptionEvent> StoreTest::ListAllEvents(
    const EventFilter& filter, int page_size) {
  return ListPages<SubscriptionEvent>(page_size, [&](const PageRequest& page) {
    return store_->ListSubscriptionEvents(filter, page);
  });
}

std::vector<Customer> StoreTest::ListAll(const CustomerFilter& filter,
                                         int page_size) {
  return ListPages<Customer>(page_size, [&](const PageRequest& page) {
    return store_->ListCustomers(filter, page);
  });
}

absl::Time StoreTest::Tick() {
  now_ += absl::Seconds(1);
  return now_;
}

}  // namespace recurrent::core::testing
