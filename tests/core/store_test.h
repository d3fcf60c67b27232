// The Store test suite: what every call means, written once against
// core::Store and run over every backend (tests/testing/backends.h).
//
//   TEST_P(StoreTest, Something) {
//     const DataSource source = NewSource("s");
//     ASSERT_OK(store_->...);
//   }
//
// Each test gets a fresh database in a temporary folder; Reopen() closes and
// reopens it (durability).
#ifndef RECURRENT_TESTS_CORE_STORE_TEST_H_
#define RECURRENT_TESTS_CORE_STORE_TEST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/settings.h"
#include "core/store.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "tests/testing/backends.h"

namespace recurrent::core::testing {

using persistence::CustomerStatus;
using persistence::ExternalId;
using persistence::LineItem;
using persistence::SettingsImpact;
using ::recurrent::testing::TestBackend;

// Filters by source, and by (source, external id).
inline CustomerFilter BySource(const std::string& uuid) {
  CustomerFilter filter;
  filter.data_source_uuid = uuid;
  return filter;
}
inline CustomerFilter ByExternalId(const std::string& source_uuid,
                                   const std::string& external_id) {
  CustomerFilter filter;
  filter.data_source_uuid = source_uuid;
  filter.external_id = external_id;
  return filter;
}

// What the backend stores of one customer for the engine: its record, its
// facts, its sources' current settings and its subscriptions.
struct CustomerSnapshot {
  Customer customer;
  engine::CustomerFacts facts;
  engine::SettingsMap settings;
  std::vector<SubscriptionRef> subscriptions;
};
absl::StatusOr<CustomerSnapshot> LoadSnapshot(persistence::Backend& backend,
                                              absl::string_view uuid);

class StoreTest : public ::testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Closes and reopens the database on the same folder.
  void Reopen();

  // Shorthands that fail the test on error (use with ASSERT_NO_FATAL_FAILURE
  // or check the returned value).
  DataSource NewSource(const std::string& name);
  Customer NewCustomer(const std::string& source_uuid,
                       const std::string& external_id,
                       const std::string& email = "");
  absl::StatusOr<CustomerSnapshot> Snapshot(absl::string_view uuid) {
    return LoadSnapshot(*backend_, uuid);
  }

  // Every customer matching `filter`, paging with `page_size`.
  std::vector<Customer> ListAll(const CustomerFilter& filter,
                                int page_size = 1000);
  // Uuids of ListAll's customers, in order.
  std::vector<std::string> ListUuids(const CustomerFilter& filter,
                                     int page_size = 1000);

  // Every invoice / event matching `filter`, paging with `page_size`.
  std::vector<Invoice> ListAllInvoices(
      const InvoiceFilter& filter, int page_size = 1000,
      std::optional<OpenAt> open_at = std::nullopt);
  std::vector<SubscriptionEvent> ListAllEvents(const EventFilter& filter,
                                               int page_size = 1000);

  // A distinct instant per call, increasing.
  absl::Time Tick();

  std::string dir_;
  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<Store> store_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

}  // namespace recurrent::core::testing

#endif  // RECURRENT_TESTS_CORE_STORE_TEST_H_
