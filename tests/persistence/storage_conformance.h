// The Storage conformance suite: behaviour every Storage backend must have,
// written once against the interface and instantiated per backend.
//
// To run it against a new backend, instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(
//       MyBackend, StorageConformanceTest,
//       ::testing::Values(StorageBackend{"MyBackend", &OpenMyBackend}),
//       StorageBackendName);
#ifndef RECURRENT_TESTS_PERSISTENCE_STORAGE_CONFORMANCE_H_
#define RECURRENT_TESTS_PERSISTENCE_STORAGE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "persistence/storage.h"

namespace recurrent::persistence::testing {

struct StorageBackend {
  std::string name;
  // Opens the backend's database kept in the (existing, initially empty)
  // folder `dir`, creating it on first use. Opening the same folder again
  // must see the data written before (durability).
  std::function<absl::StatusOr<std::unique_ptr<Storage>>(
      const std::string& dir)>
      open;
};

// Test names and failure messages show the backend's name.
inline void PrintTo(const StorageBackend& backend, std::ostream* os) {
  *os << backend.name;
}

std::string StorageBackendName(
    const ::testing::TestParamInfo<StorageBackend>& info);

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

// Makes a fresh, empty temporary folder; returns its path.
std::string MakeTempDir();

class StorageConformanceTest : public ::testing::TestWithParam<StorageBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Closes and reopens the storage on the same folder.
  void Reopen();

  // Shorthands that fail the test on error (use with ASSERT_NO_FATAL_FAILURE
  // or check the returned value).
  DataSource NewSource(const std::string& name);
  Customer NewCustomer(const std::string& source_uuid,
                       const std::string& external_id,
                       const std::string& email = "");

  // Every customer matching `filter`, paging with `page_size`.
  std::vector<Customer> ListAll(const CustomerFilter& filter,
                                int page_size = 1000);
  // Uuids of ListAll's customers, in order.
  std::vector<std::string> ListUuids(const CustomerFilter& filter,
                                     int page_size = 1000);

  // Every invoice / event matching `filter`, paging with `page_size`.
  std::vector<Invoice> ListAllInvoices(const InvoiceFilter& filter,
                                       int page_size = 1000);
  std::vector<SubscriptionEvent> ListAllEvents(const EventFilter& filter,
                                               int page_size = 1000);

  // A distinct instant per call, increasing.
  absl::Time Tick();

  std::string dir_;
  std::unique_ptr<Storage> storage_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

}  // namespace recurrent::persistence::testing

#endif  // RECURRENT_TESTS_PERSISTENCE_STORAGE_CONFORMANCE_H_
