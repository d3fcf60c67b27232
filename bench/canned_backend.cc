#include "bench/canned_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recurrent::bench {
namespace {

using persistence::ChangeRow;
using persistence::Customer;
using persistence::CustomerFields;
using persistence::CustomerFilter;
using persistence::CustomerState;
using persistence::DataSourceRow;
using persistence::EvaluationWrite;
using persistence::EventFilter;
using persistence::Invoice;
using persistence::InvoiceFilter;
using persistence::Page;
using persistence::PageRequest;
using persistence::SettingsRow;
using persistence::SourceScan;
using persistence::SubscriptionEvent;
using persistence::SubscriptionRef;
using persistence::Transaction;
using Rows = CannedBackend::Rows;

absl::Status NotCanned(absl::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat(what, " is not served by the baseline server"));
}

// The reads of both kinds of transaction, served from `rows`.
template <typename Base>
class CannedReads : public Base {
 public:
  explicit CannedReads(const Rows& rows) : rows_(rows) {}

  absl::StatusOr<DataSourceRow> GetDataSource(absl::string_view uuid) override {
    for (const DataSourceRow& source : rows_.sources) {
      if (source.uuid == uuid) return source;
    }
    return absl::NotFoundError(
        absl::StrCat("data source ", uuid, " not found"));
  }
  absl::StatusOr<Page<DataSourceRow>> ListDataSources(
      const PageRequest&) override {
    Page<DataSourceRow> page;
    page.items = rows_.sources;
    return page;
  }
  absl::StatusOr<std::vector<SettingsRow>> ListSettingsVersions(
      absl::string_view) override {
    return NotCanned("ListSettingsVersions");
  }
  absl::StatusOr<std::vector<SettingsRow>> CurrentSettings() override {
    std::vector<SettingsRow> settings;
    for (const DataSourceRow& source : rows_.sources) {
      settings.push_back(source.settings);
    }
    return settings;
  }
  absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) override {
    return State(uuid).customer;
  }
  absl::StatusOr<Page<Customer>> ListCustomers(const CustomerFilter&,
                                               const PageRequest&) override {
    Page<Customer> page;
    page.items = rows_.page;
    return page;
  }
  absl::StatusOr<CustomerState> LoadCustomerState(absl::string_view uuid,
                                                  bool) override {
    return State(uuid);
  }
  absl::StatusOr<Invoice> GetInvoice(absl::string_view) override {
    return NotCanned("GetInvoice");
  }
  absl::StatusOr<std::optional<Invoice>> FindInvoice(
      absl::string_view, absl::string_view) override {
    return NotCanned("FindInvoice");
  }
  absl::StatusOr<Page<Invoice>> ListInvoices(const InvoiceFilter&,
                                             const PageRequest&) override {
    return NotCanned("ListInvoices");
  }
  absl::StatusOr<std::optional<persistence::ReadTransaction::StoredTransaction>>
  FindTransaction(absl::string_view, absl::string_view) override {
    return NotCanned("FindTransaction");
  }
  absl::StatusOr<SubscriptionRef> GetSubscription(absl::string_view) override {
    return NotCanned("GetSubscription");
  }
  absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
      absl::string_view, absl::string_view) override {
    return NotCanned("FindSubscription");
  }
  absl::StatusOr<Page<SubscriptionEvent>> ListEvents(
      const EventFilter&, const PageRequest&) override {
    return NotCanned("ListEvents");
  }
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view) override {
    return NotCanned("ScanSource");
  }
  absl::StatusOr<Page<persistence::MrrMovementRow>> ListMrrMovements(
      const persistence::MrrMovementFilter&, const PageRequest&) override {
    return NotCanned("ListMrrMovements");
  }
  absl::StatusOr<std::vector<std::vector<persistence::MrrSums>>> SumMrr(
      absl::string_view, absl::Span<const absl::Time>) override {
    return NotCanned("SumMrr");
  }
  // The captured rows hold no MRR rows: every customer has none.
  absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> CustomersMrrAt(
      absl::Span<const std::string> customer_uuids, absl::Time) override {
    return std::vector<std::vector<engine::MrrAmount>>(customer_uuids.size());
  }
  absl::StatusOr<std::vector<ChangeRow>> ReadChanges(int64_t, int) override {
    return std::vector<ChangeRow>();
  }
  absl::StatusOr<std::vector<ChangeRow>> ReadChangesOfKinds(
      int64_t, int, absl::Span<const persistence::ChangeKind>) override {
    return std::vector<ChangeRow>();
  }
  absl::StatusOr<int64_t> LastChangeSequence() override { return 0; }
  absl::StatusOr<persistence::StorageStats> ReadStorageStats() override {
    return persistence::StorageStats();
  }

 private:
  // The captured state of `uuid`, or of the first captured customer.
  const CustomerState& State(absl::string_view uuid) const {
    auto it = rows_.states.find(uuid);
    if (it == rows_.states.end()) it = rows_.states.begin();
    return it->second;
  }

  const Rows& rows_;
};

// A write transaction in which no customer is ever due and nothing can be
// written (the re-evaluator and the change-log pruner find nothing to do).
class CannedWrite final : public CannedReads<persistence::WriteTransaction> {
 public:
  using CannedReads::CannedReads;

  absl::Status LockSources(absl::Span<const std::string>) override {
    return absl::OkStatus();
  }
  absl::Status LockCustomerSources(absl::Span<const std::string>) override {
    return absl::OkStatus();
  }
  absl::Status LockSourceWithItsCustomers(absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<bool> TryLockCustomerSources(
      absl::Span<const std::string>) override {
    return true;
  }
  absl::StatusOr<std::vector<std::string>> ClaimDueCustomers(absl::Time,
                                                             int) override {
    return std::vector<std::string>();
  }
  absl::Status InsertDataSource(const DataSourceRow&) override {
    return NotCanned("InsertDataSource");
  }
  absl::StatusOr<std::vector<std::string>> DeleteDataSource(
      absl::string_view) override {
    return NotCanned("DeleteDataSource");
  }
  absl::Status InsertSettingsVersion(const SettingsRow&) override {
    return NotCanned("InsertSettingsVersion");
  }
  absl::Status InsertCustomer(const Customer&) override {
    return NotCanned("InsertCustomer");
  }
  absl::Status UpdateCustomer(absl::string_view, const CustomerFields&,
                              const std::vector<std::string>&,
                              absl::Time) override {
    return NotCanned("UpdateCustomer");
  }
  absl::Status DeleteCustomer(absl::string_view) override {
    return NotCanned("DeleteCustomer");
  }
  absl::Status MoveCustomerRows(absl::string_view, absl::string_view) override {
    return NotCanned("MoveCustomerRows");
  }
  absl::Status InsertInvoices(absl::string_view,
                              absl::Span<const Invoice>) override {
    return NotCanned("InsertInvoices");
  }
  absl::Status DeleteInvoice(absl::string_view) override {
    return NotCanned("DeleteInvoice");
  }
  absl::Status InsertTransaction(absl::string_view,
                                 const Transaction&) override {
    return NotCanned("InsertTransaction");
  }
  absl::Status InsertSubscriptions(absl::Span<const SubscriptionRef>) override {
    return NotCanned("InsertSubscriptions");
  }
  absl::Status DeleteSubscriptions(absl::Span<const std::string>) override {
    return NotCanned("DeleteSubscriptions");
  }
  absl::StatusOr<bool> InsertCancellation(absl::string_view, absl::Time,
                                          absl::Time) override {
    return NotCanned("InsertCancellation");
  }
  absl::Status WriteEvaluation(const EvaluationWrite&) override {
    return NotCanned("WriteEvaluation");
  }
  absl::Status AppendChanges(absl::Span<const ChangeRow>) override {
    return NotCanned("AppendChanges");
  }
  absl::StatusOr<int64_t> PruneChanges(absl::Time, int) override { return 0; }
  absl::Status Savepoint() override { return absl::OkStatus(); }
  absl::Status RollbackToSavepoint() override { return absl::OkStatus(); }
  absl::Status ReleaseSavepoint() override { return absl::OkStatus(); }
  absl::Status Commit() override { return absl::OkStatus(); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<CannedBackend>> CannedBackend::Capture(
    persistence::Backend& source, const std::string& source_name,
    persistence::CustomerStatus status, int page_size) {
  std::unique_ptr<CannedBackend> canned(new CannedBackend());
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             source.BeginRead());
  RECURRENT_ASSIGN_OR_RETURN(Page<DataSourceRow> sources,
                             txn->ListDataSources(PageRequest{1000, ""}));
  canned->rows_.sources = std::move(sources.items);
  std::string source_uuid;
  for (const DataSourceRow& data_source : canned->rows_.sources) {
    if (data_source.name == source_name) source_uuid = data_source.uuid;
  }
  if (source_uuid.empty()) {
    return absl::NotFoundError(absl::StrCat("no data source ", source_name));
  }
  CustomerFilter filter;
  filter.data_source_uuid = source_uuid;
  filter.status = status;
  RECURRENT_ASSIGN_OR_RETURN(
      Page<Customer> page,
      txn->ListCustomers(filter, PageRequest{page_size, ""}));
  if (page.items.empty()) {
    return absl::NotFoundError("no customer to capture");
  }
  canned->rows_.page = std::move(page.items);
  for (const Customer& customer : canned->rows_.page) {
    RECURRENT_ASSIGN_OR_RETURN(CustomerState state,
                               txn->LoadCustomerState(customer.uuid, false));
    canned->rows_.states.emplace(customer.uuid, std::move(state));
  }
  return canned;
}

absl::StatusOr<std::unique_ptr<persistence::ReadTransaction>>
CannedBackend::BeginRead(ReadKind) {
  return std::unique_ptr<persistence::ReadTransaction>(
      std::make_unique<CannedReads<persistence::ReadTransaction>>(rows_));
}

absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>>
CannedBackend::BeginWrite() {
  return std::unique_ptr<persistence::WriteTransaction>(
      std::make_unique<CannedWrite>(rows_));
}

}  // namespace recurrent::bench
