#include "tests/testing/faulty_backend.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace recurrent::testing {
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

// Counts the statement, then forwards the call unless it is the fault's turn.
#define FAULTY_FORWARD(name, call)                      \
  do {                                                  \
    RECURRENT_RETURN_IF_ERROR(owner_->Statement(name)); \
    return inner_->call;                                \
  } while (false)

class FaultyScan final : public SourceScan {
 public:
  FaultyScan(FaultyBackend* owner, std::unique_ptr<SourceScan> inner)
      : owner_(owner), inner_(std::move(inner)) {}
  absl::StatusOr<bool> Next(CustomerState& state) override {
    FAULTY_FORWARD("SourceScan::Next", Next(state));
  }
  int64_t rows_scanned() const override { return inner_->rows_scanned(); }

 private:
  FaultyBackend* const owner_;
  const std::unique_ptr<SourceScan> inner_;
};

// The reads of both kinds of transaction, forwarded to an `Inner`.
template <typename Base, typename Inner>
class FaultyReads : public Base {
 public:
  FaultyReads(FaultyBackend* owner, std::unique_ptr<Inner> inner)
      : owner_(owner), inner_(std::move(inner)) {}

  absl::StatusOr<DataSourceRow> GetDataSource(absl::string_view uuid) override {
    FAULTY_FORWARD("GetDataSource", GetDataSource(uuid));
  }
  absl::StatusOr<Page<DataSourceRow>> ListDataSources(
      const PageRequest& page) override {
    FAULTY_FORWARD("ListDataSources", ListDataSources(page));
  }
  absl::StatusOr<std::vector<SettingsRow>> ListSettingsVersions(
      absl::string_view uuid) override {
    FAULTY_FORWARD("ListSettingsVersions", ListSettingsVersions(uuid));
  }
  absl::StatusOr<std::vector<SettingsRow>> CurrentSettings() override {
    FAULTY_FORWARD("CurrentSettings", CurrentSettings());
  }
  absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) override {
    FAULTY_FORWARD("GetCustomer", GetCustomer(uuid));
  }
  absl::StatusOr<Page<Customer>> ListCustomers(
      const CustomerFilter& filter, const PageRequest& page) override {
    FAULTY_FORWARD("ListCustomers", ListCustomers(filter, page));
  }
  absl::StatusOr<CustomerState> LoadCustomerState(absl::string_view uuid,
                                                  bool with_events) override {
    FAULTY_FORWARD("LoadCustomerState", LoadCustomerState(uuid, with_events));
  }
  absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid) override {
    FAULTY_FORWARD("GetInvoice", GetInvoice(uuid));
  }
  absl::StatusOr<std::optional<Invoice>> FindInvoice(
      absl::string_view source, absl::string_view external_id) override {
    FAULTY_FORWARD("FindInvoice", FindInvoice(source, external_id));
  }
  absl::StatusOr<Page<Invoice>> ListInvoices(const InvoiceFilter& filter,
                                             const PageRequest& page) override {
    FAULTY_FORWARD("ListInvoices", ListInvoices(filter, page));
  }
  absl::StatusOr<std::optional<persistence::ReadTransaction::StoredTransaction>>
  FindTransaction(absl::string_view source,
                  absl::string_view external_id) override {
    FAULTY_FORWARD("FindTransaction", FindTransaction(source, external_id));
  }
  absl::StatusOr<SubscriptionRef> GetSubscription(
      absl::string_view uuid) override {
    FAULTY_FORWARD("GetSubscription", GetSubscription(uuid));
  }
  absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
      absl::string_view source, absl::string_view external_id) override {
    FAULTY_FORWARD("FindSubscription", FindSubscription(source, external_id));
  }
  absl::StatusOr<Page<SubscriptionEvent>> ListEvents(
      const EventFilter& filter, const PageRequest& page) override {
    FAULTY_FORWARD("ListEvents", ListEvents(filter, page));
  }
  absl::StatusOr<std::unique_ptr<SourceScan>> ScanSource(
      absl::string_view uuid) override {
    RECURRENT_RETURN_IF_ERROR(owner_->Statement("ScanSource"));
    RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<SourceScan> scan,
                               inner_->ScanSource(uuid));
    return std::unique_ptr<SourceScan>(
        std::make_unique<FaultyScan>(owner_, std::move(scan)));
  }
  absl::StatusOr<Page<persistence::MrrMovementRow>> ListMrrMovements(
      const persistence::MrrMovementFilter& filter,
      const PageRequest& page) override {
    FAULTY_FORWARD("ListMrrMovements", ListMrrMovements(filter, page));
  }
  absl::StatusOr<std::vector<std::vector<persistence::MrrSums>>> SumMrr(
      absl::string_view source, absl::Span<const absl::Time> bounds) override {
    FAULTY_FORWARD("SumMrr", SumMrr(source, bounds));
  }
  absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> CustomersMrrAt(
      absl::Span<const std::string> customers, absl::Time t) override {
    FAULTY_FORWARD("CustomersMrrAt", CustomersMrrAt(customers, t));
  }
  absl::StatusOr<std::vector<ChangeRow>> ReadChanges(int64_t after,
                                                     int limit) override {
    FAULTY_FORWARD("ReadChanges", ReadChanges(after, limit));
  }
  absl::StatusOr<std::vector<ChangeRow>> ReadChangesOfKinds(
      int64_t after, int limit,
      absl::Span<const persistence::ChangeKind> kinds) override {
    FAULTY_FORWARD("ReadChangesOfKinds",
                   ReadChangesOfKinds(after, limit, kinds));
  }
  absl::StatusOr<int64_t> LastChangeSequence() override {
    FAULTY_FORWARD("LastChangeSequence", LastChangeSequence());
  }
  absl::StatusOr<persistence::StorageStats> ReadStorageStats() override {
    FAULTY_FORWARD("ReadStorageStats", ReadStorageStats());
  }

 protected:
  FaultyBackend* const owner_;
  const std::unique_ptr<Inner> inner_;
};

using FaultyRead =
    FaultyReads<persistence::ReadTransaction, persistence::ReadTransaction>;

class FaultyWrite final : public FaultyReads<persistence::WriteTransaction,
                                             persistence::WriteTransaction> {
 public:
  using FaultyReads::FaultyReads;

  absl::Status LockSources(absl::Span<const std::string> uuids) override {
    FAULTY_FORWARD("LockSources", LockSources(uuids));
  }
  absl::Status LockCustomerSources(
      absl::Span<const std::string> uuids) override {
    FAULTY_FORWARD("LockCustomerSources", LockCustomerSources(uuids));
  }
  absl::StatusOr<bool> TryLockCustomerSources(
      absl::Span<const std::string> uuids) override {
    FAULTY_FORWARD("TryLockCustomerSources", TryLockCustomerSources(uuids));
  }
  absl::Status LockSourceWithItsCustomers(absl::string_view uuid) override {
    FAULTY_FORWARD("LockSourceWithItsCustomers",
                   LockSourceWithItsCustomers(uuid));
  }
  absl::StatusOr<std::vector<std::string>> ClaimDueCustomers(
      absl::Time now, int limit) override {
    FAULTY_FORWARD("ClaimDueCustomers", ClaimDueCustomers(now, limit));
  }
  absl::Status InsertDataSource(const DataSourceRow& source) override {
    FAULTY_FORWARD("InsertDataSource", InsertDataSource(source));
  }
  absl::StatusOr<std::vector<std::string>> DeleteDataSource(
      absl::string_view uuid) override {
    FAULTY_FORWARD("DeleteDataSource", DeleteDataSource(uuid));
  }
  absl::Status InsertSettingsVersion(const SettingsRow& settings) override {
    FAULTY_FORWARD("InsertSettingsVersion", InsertSettingsVersion(settings));
  }
  absl::Status InsertCustomer(const Customer& customer) override {
    FAULTY_FORWARD("InsertCustomer", InsertCustomer(customer));
  }
  absl::Status UpdateCustomer(absl::string_view uuid,
                              const CustomerFields& fields,
                              const std::vector<std::string>& tags,
                              absl::Time updated_at) override {
    FAULTY_FORWARD("UpdateCustomer",
                   UpdateCustomer(uuid, fields, tags, updated_at));
  }
  absl::Status DeleteCustomer(absl::string_view uuid) override {
    FAULTY_FORWARD("DeleteCustomer", DeleteCustomer(uuid));
  }
  absl::Status MoveCustomerRows(absl::string_view from,
                                absl::string_view into) override {
    FAULTY_FORWARD("MoveCustomerRows", MoveCustomerRows(from, into));
  }
  absl::Status InsertInvoices(absl::string_view customer,
                              absl::Span<const Invoice> invoices) override {
    FAULTY_FORWARD("InsertInvoices", InsertInvoices(customer, invoices));
  }
  absl::Status DeleteInvoice(absl::string_view uuid) override {
    FAULTY_FORWARD("DeleteInvoice", DeleteInvoice(uuid));
  }
  absl::Status InsertTransaction(absl::string_view invoice,
                                 const Transaction& transaction) override {
    FAULTY_FORWARD("InsertTransaction",
                   InsertTransaction(invoice, transaction));
  }
  absl::Status InsertSubscriptions(
      absl::Span<const SubscriptionRef> subscriptions) override {
    FAULTY_FORWARD("InsertSubscriptions", InsertSubscriptions(subscriptions));
  }
  absl::Status DeleteSubscriptions(
      absl::Span<const std::string> uuids) override {
    FAULTY_FORWARD("DeleteSubscriptions", DeleteSubscriptions(uuids));
  }
  absl::StatusOr<bool> InsertCancellation(absl::string_view subscription,
                                          absl::Time cancelled_at,
                                          absl::Time recorded_at) override {
    FAULTY_FORWARD("InsertCancellation",
                   InsertCancellation(subscription, cancelled_at, recorded_at));
  }
  absl::Status WriteEvaluation(const EvaluationWrite& write) override {
    FAULTY_FORWARD("WriteEvaluation", WriteEvaluation(write));
  }
  absl::Status AppendChanges(absl::Span<const ChangeRow> rows) override {
    FAULTY_FORWARD("AppendChanges", AppendChanges(rows));
  }
  absl::StatusOr<int64_t> PruneChanges(absl::Time before, int limit) override {
    FAULTY_FORWARD("PruneChanges", PruneChanges(before, limit));
  }
  absl::Status Savepoint() override {
    FAULTY_FORWARD("Savepoint", Savepoint());
  }
  absl::Status RollbackToSavepoint() override {
    FAULTY_FORWARD("RollbackToSavepoint", RollbackToSavepoint());
  }
  absl::Status ReleaseSavepoint() override {
    FAULTY_FORWARD("ReleaseSavepoint", ReleaseSavepoint());
  }
  absl::Status Commit() override { FAULTY_FORWARD("Commit", Commit()); }
};

#undef FAULTY_FORWARD

}  // namespace

FaultyBackend::FaultyBackend(persistence::Backend* inner) : inner_(inner) {}

void FaultyBackend::FailAt(int64_t n, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = statements_ + n;
  fault_ = std::move(status);
  fired_ = false;
}

void FaultyBackend::FailOn(const std::string& name, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_on_[name] = std::move(status);
  fired_ = false;
}

void FaultyBackend::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = 0;
  fail_on_.clear();
  fired_ = false;
}

bool FaultyBackend::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

void FaultyBackend::Delay(absl::Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

int64_t FaultyBackend::statements() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statements_;
}

std::string FaultyBackend::last_statement() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

absl::Status FaultyBackend::Statement(const char* name) {
  absl::Duration delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++statements_;
    last_ = name;
    delay = delay_;
    if (fail_at_ != 0 && statements_ == fail_at_) {
      fail_at_ = 0;
      fired_ = true;
      return fault_;
    }
    if (auto it = fail_on_.find(name); it != fail_on_.end()) {
      absl::Status fault = std::move(it->second);
      fail_on_.erase(it);
      fired_ = true;
      return fault;
    }
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<persistence::ReadTransaction>>
FaultyBackend::BeginRead(ReadKind kind) {
  RECURRENT_RETURN_IF_ERROR(Statement("BeginRead"));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::ReadTransaction> txn,
                             inner_->BeginRead(kind));
  return std::unique_ptr<persistence::ReadTransaction>(
      std::make_unique<FaultyRead>(this, std::move(txn)));
}

absl::Status FaultyBackend::CheckHealth() { return inner_->CheckHealth(); }

absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>>
FaultyBackend::BeginWrite() {
  RECURRENT_RETURN_IF_ERROR(Statement("BeginWrite"));
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<persistence::WriteTransaction> txn,
                             inner_->BeginWrite());
  return std::unique_ptr<persistence::WriteTransaction>(
      std::make_unique<FaultyWrite>(this, std::move(txn)));
}

}  // namespace recurrent::testing
