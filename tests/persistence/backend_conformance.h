// The Backend conformance suite: the contract of persistence/backend.h,
// checked through the interface only, written once and instantiated per
// backend. (What a call means is the core's; its suite is tests/core/.)
//
// It runs against every backend of tests/testing/backends.h.
#ifndef RECURRENT_TESTS_PERSISTENCE_BACKEND_CONFORMANCE_H_
#define RECURRENT_TESTS_PERSISTENCE_BACKEND_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "tests/testing/backends.h"

namespace recurrent::persistence::testing {

class BackendConformanceTest
    : public ::testing::TestWithParam<::recurrent::testing::TestBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Shorthands that fail the test on error. Each commits one write
  // transaction made through the interface and returns what it made.
  DataSourceRow NewSource(const std::string& name);
  Customer NewCustomer(const std::string& source_uuid,
                       const std::string& external_id);
  // A subscription of the customer in the source, named by a one-invoice
  // import (one SUBSCRIPTION line item, `external_id` + "-inv").
  SubscriptionRef NewSubscription(const Customer& customer,
                                  const std::string& source_uuid,
                                  const std::string& external_id);

  // A distinct instant per call, increasing, in whole seconds.
  absl::Time Tick();

  std::string dir_;
  std::unique_ptr<Backend> backend_;
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

}  // namespace recurrent::persistence::testing

#endif  // RECURRENT_TESTS_PERSISTENCE_BACKEND_CONFORMANCE_H_
