// CannedStorage: a Storage that serves data captured once from a real
// database, from memory, without SQLite. bench/baseline_server.cc runs the
// real Server over it, so that its GetCustomer and ListCustomers cost
// everything recurrentd's do (gRPC, the Executor, validation, the engine's
// evaluation, conversion to protos) except storage: the ceiling of the RPC
// layer on this machine.
//
// Serves: GetCustomerSnapshot (any uuid: a captured customer's snapshot,
// the one with that uuid if captured), GetCustomer, ListCustomers (always
// the captured page, as the last page), GetDataSource and ListDataSources.
// Every other call fails with kUnimplemented; RecomputeDueCustomers returns 0.
//
// Thread-safe (read-only after Capture).
#ifndef RECURRENT_BENCH_CANNED_STORAGE_H_
#define RECURRENT_BENCH_CANNED_STORAGE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "persistence/storage.h"

namespace recurrent::bench {

class CannedStorage final : public persistence::Storage {
 public:
  // Captures from `source`: its data sources, the first page of `page_size`
  // customers of the source named `source_name` with status `status`, and
  // their snapshots.
  static absl::StatusOr<std::unique_ptr<CannedStorage>> Capture(
      persistence::Storage& source, const std::string& source_name,
      persistence::CustomerStatus status, int page_size);

  int captured_customers() const { return static_cast<int>(page_.size()); }

  absl::StatusOr<persistence::DataSource> CreateDataSource(
      absl::string_view name, absl::string_view system,
      absl::Time now) override;
  absl::StatusOr<persistence::DataSource> GetDataSource(
      absl::string_view uuid) override;
  absl::StatusOr<persistence::Page<persistence::DataSource>> ListDataSources(
      const persistence::PageRequest& page) override;
  absl::Status DeleteDataSource(absl::string_view uuid,
                                absl::Time now) override;
  absl::StatusOr<persistence::SourceSettings> GetSettings(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<SettingsUpdate> UpdateSettings(
      absl::string_view data_source_uuid, const SettingsDecision& decide,
      bool dry_run, absl::Time now) override;
  absl::StatusOr<persistence::SettingsImpact> ReprocessDataSource(
      absl::string_view data_source_uuid, absl::Time now) override;
  absl::StatusOr<std::vector<persistence::SourceSettings>> ListSettingsHistory(
      absl::string_view data_source_uuid) override;
  absl::StatusOr<persistence::Customer> CreateCustomer(
      const persistence::Customer& customer, absl::Time now) override;
  absl::StatusOr<persistence::Customer> GetCustomer(
      absl::string_view uuid) override;
  absl::StatusOr<persistence::Customer> UpdateCustomer(
      absl::string_view uuid, const CustomerMutation& mutate,
      absl::Time now) override;
  absl::Status DeleteCustomer(absl::string_view uuid) override;
  absl::StatusOr<persistence::Page<persistence::Customer>> ListCustomers(
      const persistence::CustomerFilter& filter,
      const persistence::PageRequest& page) override;
  absl::StatusOr<persistence::Customer> MergeCustomers(
      absl::string_view from_uuid, absl::string_view into_uuid,
      absl::Time now) override;
  absl::StatusOr<persistence::Customer> AddCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) override;
  absl::StatusOr<persistence::Customer> RemoveCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) override;
  absl::StatusOr<std::vector<persistence::Invoice>> ImportInvoices(
      absl::string_view customer_uuid,
      const std::vector<persistence::Invoice>& invoices,
      absl::Time now) override;
  absl::StatusOr<persistence::Invoice> GetInvoice(
      absl::string_view uuid) override;
  absl::StatusOr<persistence::Page<persistence::Invoice>> ListInvoices(
      const persistence::InvoiceFilter& filter,
      const persistence::PageRequest& page) override;
  absl::Status DeleteInvoice(absl::string_view uuid, absl::Time now) override;
  absl::StatusOr<persistence::Transaction> AddTransaction(
      absl::string_view invoice_uuid,
      const persistence::Transaction& transaction, absl::Time now) override;
  absl::StatusOr<persistence::SubscriptionRef> GetSubscription(
      absl::string_view uuid) override;
  absl::Status CancelSubscription(absl::string_view subscription_uuid,
                                  absl::Time cancelled_at,
                                  absl::Time now) override;
  absl::StatusOr<persistence::CustomerSnapshot> GetCustomerSnapshot(
      absl::string_view customer_uuid) override;
  absl::StatusOr<persistence::Page<persistence::SubscriptionEvent>>
  ListSubscriptionEvents(const persistence::EventFilter& filter,
                         const persistence::PageRequest& page) override;
  absl::StatusOr<int> RecomputeDueCustomers(absl::Time now, int limit) override;
  // Nothing ever changes.
  void SetChangeListener(persistence::ChangeListener listener) override {}

 private:
  CannedStorage() = default;

  std::vector<persistence::DataSource> sources_;
  std::vector<persistence::Customer> page_;
  std::map<std::string, persistence::CustomerSnapshot, std::less<>> snapshots_;
};

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_CANNED_STORAGE_H_
