// ApiTest: a fixture that drives a real server through the public API with
// short helpers for sources, customers, invoices and reads.
#ifndef RECURRENT_TESTS_SERVICE_API_FIXTURE_H_
#define RECURRENT_TESTS_SERVICE_API_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/service/test_server.h"

namespace recurrent::service::testing {

// "2025-02-01" or "2025-02-01T12:30:00" (UTC).
absl::Time T(const std::string& text);

// A payment of `amount` (the whole invoice when unset) at `at`.
struct Payment {
  absl::Time at;
  std::optional<int64_t> amount;
  bool failed = false;
  bool refund = false;
};

// One invoice with one SUBSCRIPTION line item for [start, end).
struct InvoiceSpec {
  std::string external_id;
  std::string subscription;
  absl::Time start;
  absl::Time end;
  int64_t amount = 4900;
  std::optional<absl::Time> due;  // unset: no due date
  std::vector<Payment> payments;
  std::string data_source_uuid;  // empty: the customer's
  std::string line_item_type = "SUBSCRIPTION";
};

class ApiTest : public ::testing::Test {
 protected:
  // A source with KEEP (days == 0) or AUTO_CHURN after `days`, applied now.
  std::string CreateSource(const std::string& name, int days = 0);
  void SetAutoChurn(const std::string& source, int days);
  // Back to KEEP (past-due subscriptions stay until cancelled), applied now.
  void SetKeep(const std::string& source);
  std::string CreateCustomer(const std::string& source,
                             const std::string& external_id);

  static v1::Invoice MakeInvoice(const InvoiceSpec& spec);
  // Monthly invoices for `subscription` from `first` for `months` months,
  // each due at its period start and paid then, unless listed in `unpaid`.
  static std::vector<InvoiceSpec> Monthly(const std::string& subscription,
                                          absl::Time first, int months);

  grpc::Status Import(const std::string& customer,
                      const std::vector<InvoiceSpec>& specs,
                      v1::ImportInvoicesResponse* response = nullptr);
  void MustImport(const std::string& customer,
                  const std::vector<InvoiceSpec>& specs);

  std::vector<v1::Subscription> Subscriptions(const std::string& customer,
                                              absl::Time as_of);
  // The one subscription of `customer` at `as_of` (fails if not exactly one).
  v1::Subscription Subscription(const std::string& customer, absl::Time as_of);
  v1::SubscriptionStatus StatusAt(const std::string& customer,
                                  absl::Time as_of);
  v1::Customer GetCustomer(const std::string& customer,
                           std::optional<absl::Time> as_of = std::nullopt);
  std::vector<v1::SubscriptionEvent> Events(
      const std::string& customer,
      absl::Time as_of = absl::FromUnixSeconds(253402300799));
  // Events as "TYPE@2025-02-01T00:00:00" strings, e.g. "PAST_DUE@…".
  std::vector<std::string> EventStrings(
      const std::string& customer,
      absl::Time as_of = absl::FromUnixSeconds(253402300799));
  std::vector<v1::Invoice> ListInvoices(const std::string& customer);
  grpc::Status Cancel(const std::string& subscription, absl::Time at,
                      v1::Subscription* out = nullptr);
  grpc::Status Pay(const std::string& invoice_uuid,
                   const std::string& external_id, absl::Time at,
                   std::optional<int64_t> amount = std::nullopt);
  std::vector<std::string> ListCustomerUuids(v1::CustomerStatus status);
  grpc::Status Merge(const std::string& from, const std::string& into);
  grpc::Status DeleteInvoice(const std::string& invoice_uuid);

  // Restarts the server with `options` and reconnects the stubs.
  void RestartWith(const TestServerOptions& options) {
    server_.Restart(options);
    Reconnect();
  }
  // Reconnects the stubs after server_.Restart.
  void Reconnect() {
    settings_ = server_.settings_stub();
    customers_ = server_.customer_stub();
    invoices_ = server_.invoice_stub();
  }

  TestServer server_;
  std::unique_ptr<v1::SourceSettingsService::Stub> settings_ =
      server_.settings_stub();
  std::unique_ptr<v1::CustomerService::Stub> customers_ =
      server_.customer_stub();
  std::unique_ptr<v1::InvoiceService::Stub> invoices_ = server_.invoice_stub();
};

}  // namespace recurrent::service::testing

#endif  // RECURRENT_TESTS_SERVICE_API_FIXTURE_H_
