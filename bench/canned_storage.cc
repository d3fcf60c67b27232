#include "bench/canned_storage.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recurrent::bench {

using persistence::Customer;
using persistence::CustomerSnapshot;
using persistence::DataSource;
using persistence::Page;
using persistence::PageRequest;

namespace {

absl::Status NotCanned(absl::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat(what, " is not served by the baseline server"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CannedStorage>> CannedStorage::Capture(
    persistence::Storage& source, const std::string& source_name,
    persistence::CustomerStatus status, int page_size) {
  std::unique_ptr<CannedStorage> canned(new CannedStorage());
  RECURRENT_ASSIGN_OR_RETURN(Page<DataSource> sources,
                             source.ListDataSources(PageRequest{1000, ""}));
  canned->sources_ = std::move(sources.items);
  std::string source_uuid;
  for (const DataSource& data_source : canned->sources_) {
    if (data_source.name == source_name) source_uuid = data_source.uuid;
  }
  if (source_uuid.empty()) {
    return absl::NotFoundError(absl::StrCat("no data source ", source_name));
  }
  persistence::CustomerFilter filter;
  filter.data_source_uuid = source_uuid;
  filter.status = status;
  RECURRENT_ASSIGN_OR_RETURN(
      Page<Customer> page,
      source.ListCustomers(filter, PageRequest{page_size, ""}));
  if (page.items.empty()) {
    return absl::NotFoundError("no customer to capture");
  }
  canned->page_ = std::move(page.items);
  for (const Customer& customer : canned->page_) {
    RECURRENT_ASSIGN_OR_RETURN(CustomerSnapshot snapshot,
                               source.GetCustomerSnapshot(customer.uuid));
    canned->snapshots_.emplace(customer.uuid, std::move(snapshot));
  }
  return canned;
}

absl::StatusOr<CustomerSnapshot> CannedStorage::GetCustomerSnapshot(
    absl::string_view customer_uuid) {
  auto it = snapshots_.find(customer_uuid);
  if (it == snapshots_.end()) it = snapshots_.begin();
  return it->second;
}

absl::StatusOr<Customer> CannedStorage::GetCustomer(absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(CustomerSnapshot snapshot,
                             GetCustomerSnapshot(uuid));
  return std::move(snapshot.customer);
}

absl::StatusOr<Page<Customer>> CannedStorage::ListCustomers(
    const persistence::CustomerFilter& filter, const PageRequest& page) {
  Page<Customer> result;
  result.items = page_;
  return result;
}

absl::StatusOr<DataSource> CannedStorage::GetDataSource(
    absl::string_view uuid) {
  for (const DataSource& source : sources_) {
    if (source.uuid == uuid) return source;
  }
  return absl::NotFoundError(absl::StrCat("data source ", uuid, " not found"));
}

absl::StatusOr<Page<DataSource>> CannedStorage::ListDataSources(
    const PageRequest& page) {
  Page<DataSource> result;
  result.items = sources_;
  return result;
}

absl::StatusOr<int> CannedStorage::RecomputeDueCustomers(absl::Time now,
                                                         int limit) {
  return 0;
}

// ---- Not served -------------------------------------------------------------

absl::StatusOr<DataSource> CannedStorage::CreateDataSource(
    absl::string_view name, absl::string_view system, absl::Time now) {
  return NotCanned("CreateDataSource");
}
absl::Status CannedStorage::DeleteDataSource(absl::string_view uuid,
                                             absl::Time now) {
  return NotCanned("DeleteDataSource");
}
absl::StatusOr<persistence::SourceSettings> CannedStorage::GetSettings(
    absl::string_view data_source_uuid) {
  return NotCanned("GetSettings");
}
absl::StatusOr<persistence::Storage::SettingsUpdate>
CannedStorage::UpdateSettings(absl::string_view data_source_uuid,
                              const SettingsDecision& decide, bool dry_run,
                              absl::Time now) {
  return NotCanned("UpdateSettings");
}
absl::StatusOr<persistence::SettingsImpact> CannedStorage::ReprocessDataSource(
    absl::string_view data_source_uuid, absl::Time now) {
  return NotCanned("ReprocessDataSource");
}
absl::StatusOr<std::vector<persistence::SourceSettings>>
CannedStorage::ListSettingsHistory(absl::string_view data_source_uuid) {
  return NotCanned("ListSettingsHistory");
}
absl::StatusOr<Customer> CannedStorage::CreateCustomer(const Customer& customer,
                                                       absl::Time now) {
  return NotCanned("CreateCustomer");
}
absl::StatusOr<Customer> CannedStorage::UpdateCustomer(
    absl::string_view uuid, const CustomerMutation& mutate, absl::Time now) {
  return NotCanned("UpdateCustomer");
}
absl::Status CannedStorage::DeleteCustomer(absl::string_view uuid) {
  return NotCanned("DeleteCustomer");
}
absl::StatusOr<Customer> CannedStorage::MergeCustomers(
    absl::string_view from_uuid, absl::string_view into_uuid, absl::Time now) {
  return NotCanned("MergeCustomers");
}
absl::StatusOr<Customer> CannedStorage::AddCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return NotCanned("AddCustomerTags");
}
absl::StatusOr<Customer> CannedStorage::RemoveCustomerTags(
    absl::string_view uuid, const std::vector<std::string>& tags,
    absl::Time now) {
  return NotCanned("RemoveCustomerTags");
}
absl::StatusOr<std::vector<persistence::Invoice>> CannedStorage::ImportInvoices(
    absl::string_view customer_uuid,
    const std::vector<persistence::Invoice>& invoices, absl::Time now) {
  return NotCanned("ImportInvoices");
}
absl::StatusOr<persistence::Invoice> CannedStorage::GetInvoice(
    absl::string_view uuid) {
  return NotCanned("GetInvoice");
}
absl::StatusOr<Page<persistence::Invoice>> CannedStorage::ListInvoices(
    const persistence::InvoiceFilter& filter, const PageRequest& page) {
  return NotCanned("ListInvoices");
}
absl::Status CannedStorage::DeleteInvoice(absl::string_view uuid,
                                          absl::Time now) {
  return NotCanned("DeleteInvoice");
}
absl::StatusOr<persistence::Transaction> CannedStorage::AddTransaction(
    absl::string_view invoice_uuid, const persistence::Transaction& transaction,
    absl::Time now) {
  return NotCanned("AddTransaction");
}
absl::StatusOr<persistence::SubscriptionRef> CannedStorage::GetSubscription(
    absl::string_view uuid) {
  return NotCanned("GetSubscription");
}
absl::Status CannedStorage::CancelSubscription(
    absl::string_view subscription_uuid, absl::Time cancelled_at,
    absl::Time now) {
  return NotCanned("CancelSubscription");
}
absl::StatusOr<Page<persistence::SubscriptionEvent>>
CannedStorage::ListSubscriptionEvents(const persistence::EventFilter& filter,
                                      const PageRequest& page) {
  return NotCanned("ListSubscriptionEvents");
}

}  // namespace recurrent::bench
