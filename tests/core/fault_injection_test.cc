// Every write of the Store is all or nothing, whatever statement fails:
// with a FaultyBackend failing the 1st, 2nd, ... statement of each kind of
// write (imports, payments, cancellations, merges, deletes, settings
// changes, reprocesses, re-evaluation), the failed call returns an error and
// leaves everything a reader can see, the stored evaluations and the change
// log exactly as they were; the first call that runs through succeeds.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/reprocess_fixtures.h"
#include "tests/testing/backends.h"
#include "tests/testing/faulty_backend.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::FaultyBackend;
using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::TestBackend;


// One kind of write, run on the populated database.
struct Write {
  std::string name;
  std::function<absl::Status()> run;
};

class FaultInjectionTest : public ::testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
    faulty_ = std::make_unique<FaultyBackend>(backend_.get());
    Store::Options options;
    options.reprocess_threads = 2;
    options.reprocess_chunk_customers = 2;  // several chunks
    store_ = std::make_unique<Store>(faulty_.get(), options, nullptr);
    reader_ =
        std::make_unique<Store>(backend_.get(), Store::Options(), nullptr);
    ASSERT_NO_FATAL_FAILURE(Populate());
  }
  void TearDown() override {
    store_.reset();
    reader_.reset();
    faulty_.reset();
    backend_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Source S (auto-churn after 14 days) with customers of four kinds, and
  // source T with one customer merged into S's first.
  void Populate() {
    ASSERT_OK_AND_ASSIGN(s_, store_->CreateDataSource("S", "custom", kJan_));
    ASSERT_OK_AND_ASSIGN(t_, store_->CreateDataSource("T", "custom", kJan_));
    ASSERT_OK(store_->UpdateSettings(
        s_.uuid, SaveSettings(AutoChurn(14), kJan_), false, kJan_));
    for (int i = 0; i < 6; ++i) {
      Customer customer;
      customer.data_source_uuid = s_.uuid;
      customer.external_id = absl::StrCat("c", i);
      ASSERT_OK_AND_ASSIGN(customer, store_->CreateCustomer(customer, kJan_));
      const std::string id = customer.external_id;
      std::vector<Invoice> invoices =
          i % 3 == 0   ? Monthly(id, "s" + id, kJan, 5, {2})
          : i % 3 == 1 ? Monthly(id, "s" + id, kJan, 5)
                       : Monthly(id, "s" + id, kJan, 2);
      ASSERT_OK_AND_ASSIGN(
          invoices_[i], store_->ImportInvoices(customer.uuid, invoices, kJan_));
      customers_.push_back(customer.uuid);
    }
    Customer other;
    other.data_source_uuid = t_.uuid;
    other.external_id = "t0";
    ASSERT_OK_AND_ASSIGN(other, store_->CreateCustomer(other, kJan_));
    other_ = other.uuid;
    ASSERT_OK(store_->ImportInvoices(other_, Monthly("t0", "st0", kJan, 3, {1}),
                                     kJan_));
    ASSERT_OK(store_->AddCustomerTags(other_, {"vip"}, kJan_));
  }

  // Everything stored, as a reader (and the core) sees it: sources and
  // their settings history, customers with their stored evaluations
  // (subscription rows, next transition), invoices, events and the change
  // log.
  std::string Dump() {
    std::string out;
    absl::StatusOr<Page<DataSource>> sources =
        reader_->ListDataSources({1000, ""});
    if (!sources.ok()) return sources.status().ToString();
    std::vector<std::string> source_uuids;
    for (const DataSource& source : sources->items) {
      source_uuids.push_back(source.uuid);
    }
    absl::StrAppend(&out, DumpVisibleState(*reader_, source_uuids));
    absl::StatusOr<Page<Customer>> customers =
        reader_->ListCustomers({}, {1000, ""});
    if (!customers.ok()) return customers.status().ToString();
    for (const Customer& customer : customers->items) {
      absl::StrAppend(&out, customer.uuid, " ", customer.name, " ",
                      absl::StrJoin(customer.external_ids, ",",
                                    [](std::string* o, const ExternalId& id) {
                                      absl::StrAppend(o, id.data_source_uuid,
                                                      "/", id.external_id);
                                    }),
                      "\n");
      absl::StatusOr<std::unique_ptr<persistence::ReadTransaction>> txn =
          backend_->BeginRead();
      if (!txn.ok()) return txn.status().ToString();
      absl::StatusOr<persistence::CustomerState> state =
          (*txn)->LoadCustomerState(customer.uuid, true);
      if (!state.ok()) return state.status().ToString();
      absl::StrAppend(&out, " next ",
                      state->next_transition_at.has_value()
                          ? absl::FormatTime(*state->next_transition_at)
                          : "never",
                      " facts ", state->facts.invoices.size(), "/",
                      state->facts.cancellations.size(), "\n");
      for (const persistence::SubscriptionRow& row : state->subscriptions) {
        absl::StrAppend(&out, " ", row.ref.uuid, " ", row.ref.external_id, " ",
                        engine::SubscriptionStatusName(row.evaluation.status),
                        " ", row.evaluation.status_reason, "\n");
      }
      InvoiceFilter of_customer;
      of_customer.customer_uuid = customer.uuid;
      absl::StatusOr<Page<Invoice>> invoices =
          reader_->ListInvoices(of_customer, {1000, ""});
      if (!invoices.ok()) return invoices.status().ToString();
      for (const Invoice& invoice : invoices->items) {
        absl::StrAppend(&out, " ", invoice.uuid, " ", invoice.external_id, " ",
                        invoice.transactions.size(), "\n");
      }
    }
    absl::StatusOr<std::vector<persistence::ChangeRow>> changes =
        reader_->ReadChanges(0, 1'000'000);
    if (!changes.ok()) return changes.status().ToString();
    absl::StrAppend(&out, changes->size(), " change-log rows\n");
    for (const persistence::ChangeRow& row : *changes) {
      absl::StrAppend(&out, row.sequence, " ", static_cast<int>(row.kind), " ",
                      row.customer_uuid, " ", row.event.uuid, "\n");
    }
    return out;
  }

  // Runs `write` with a fault at its 1st, 2nd, ... statement until it runs
  // through: every failed attempt changes nothing; the last one succeeds.
  void ExpectAllOrNothing(const Write& write) {
    SCOPED_TRACE(write.name);
    const std::string before = Dump();
    for (int64_t n = 1;; ++n) {
      ASSERT_LT(n, 10'000) << "never ran through";
      // Alternate a busy database and an internal failure.
      faulty_->FailAt(n, n % 2 == 1 ? absl::UnavailableError("injected: busy")
                                    : absl::InternalError("injected failure"));
      const absl::Status status = write.run();
      const bool fired = faulty_->fired();
      const std::string failed_at = faulty_->last_statement();
      faulty_->Disarm();
      if (!fired) {
        EXPECT_OK(status) << "after " << n - 1 << " faults";
        EXPECT_NE(Dump(), before) << "the write changed nothing";
        return;
      }
      EXPECT_FALSE(status.ok()) << "fault at statement " << n << " ("
                                << failed_at << ") was swallowed";
      ASSERT_EQ(Dump(), before) << "fault at statement " << n << " ("
                                << failed_at << ") left a change";
    }
  }

  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<FaultyBackend> faulty_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> reader_;  // over the backend itself
  std::string dir_;
  const absl::Time kJan_ = Day(2025, 1, 1);
  DataSource s_;
  DataSource t_;
  std::vector<std::string> customers_;
  std::vector<Invoice> invoices_[6];
  std::string other_;
};

INSTANTIATE_TEST_SUITE_P(
    Backends, FaultInjectionTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

TEST_P(FaultInjectionTest, ImportOfNewInvoicesAndASubscription) {
  ExpectAllOrNothing({"ImportInvoices", [&] {
                        return store_
                            ->ImportInvoices(
                                customers_[1],
                                Monthly("c1-more", "s-new", kJan + 5, 2), kNow)
                            .status();
                      }});
}

TEST_P(FaultInjectionTest, ALatePaymentThatRemovesAChurn) {
  const Invoice& unpaid = invoices_[0][2];
  ExpectAllOrNothing({"AddTransaction", [&] {
                        return store_
                            ->AddTransaction(unpaid.uuid,
                                             Payment("late", Day(2025, 3, 5)),
                                             kNow)
                            .status();
                      }});
}

TEST_P(FaultInjectionTest, ACancellation) {
  ASSERT_OK_AND_ASSIGN(
      const SubscriptionRef sub, [&]() -> absl::StatusOr<SubscriptionRef> {
        RECURRENT_ASSIGN_OR_RETURN(const CustomerSnapshot snapshot,
                                   LoadSnapshot(*backend_, customers_[1]));
        return snapshot.subscriptions.at(0);
      }());
  ExpectAllOrNothing(
      {"CancelSubscription", [&] {
         return store_->CancelSubscription(sub.uuid, Day(2025, 3, 10), kNow)
             .status();
       }});
}

TEST_P(FaultInjectionTest, DeletingInvoicesAndThenTheirSubscription) {
  // c2's second invoice (the first still names the subscription), then the
  // first (the subscription goes with it).
  for (int i : {1, 0}) {
    ExpectAllOrNothing(
        {absl::StrCat("DeleteInvoice ", i),
         [&] { return store_->DeleteInvoice(invoices_[2][i].uuid, kNow); }});
  }
}

TEST_P(FaultInjectionTest, CustomerFieldsAndTags) {
  ExpectAllOrNothing({"UpdateCustomer", [&] {
                        return store_
                            ->UpdateCustomer(
                                customers_[3],
                                [](Customer& c) {
                                  c.name = "Renamed";
                                  return absl::OkStatus();
                                },
                                kNow)
                            .status();
                      }});
  ExpectAllOrNothing({"AddCustomerTags", [&] {
                        return store_
                            ->AddCustomerTags(customers_[3], {"a", "b"}, kNow)
                            .status();
                      }});
  ExpectAllOrNothing(
      {"RemoveCustomerTags", [&] {
         return store_->RemoveCustomerTags(customers_[3], {"a"}, kNow).status();
       }});
}

TEST_P(FaultInjectionTest, CreatingASourceAndACustomer) {
  ExpectAllOrNothing(
      {"CreateDataSource",
       [&] { return store_->CreateDataSource("U", "custom", kNow).status(); }});
  ExpectAllOrNothing({"CreateCustomer", [&] {
                        Customer customer;
                        customer.data_source_uuid = s_.uuid;
                        customer.external_id = "new";
                        return store_->CreateCustomer(customer, kNow).status();
                      }});
}

TEST_P(FaultInjectionTest, AMerge) {
  ExpectAllOrNothing(
      {"MergeCustomers", [&] {
         return store_->MergeCustomers(other_, customers_[0], kNow).status();
       }});
}

TEST_P(FaultInjectionTest, DeletingACustomer) {
  ExpectAllOrNothing({"DeleteCustomer", [&] {
                        return store_->DeleteCustomer(customers_[0], kNow);
                      }});
}

TEST_P(FaultInjectionTest, DeletingASource) {
  ASSERT_OK(store_->MergeCustomers(other_, customers_[0], kJan_));
  ExpectAllOrNothing({"DeleteDataSource",
                      [&] { return store_->DeleteDataSource(t_.uuid, kNow); }});
}

TEST_P(FaultInjectionTest, SettingsChangesAndReprocesses) {
  ExpectAllOrNothing({"UpdateSettings to 30 days", [&] {
                        return store_
                            ->UpdateSettings(s_.uuid,
                                             SaveSettings(AutoChurn(30), kNow),
                                             false, kNow)
                            .status();
                      }});
  ExpectAllOrNothing({"UpdateSettings to KEEP", [&] {
                        return store_
                            ->UpdateSettings(s_.uuid, SaveSettings(kKeep, kNow),
                                             false, kNow)
                            .status();
                      }});
  // A reprocess that changes something: t0's stored status (ACTIVE, as of
  // January) is stale by now.
  ExpectAllOrNothing(
      {"ReprocessDataSource",
       [&] { return store_->ReprocessDataSource(t_.uuid, kNow).status(); }});
}

TEST_P(FaultInjectionTest, ReEvaluation) {
  ExpectAllOrNothing(
      {"ReevaluateDueCustomers",
       [&] { return store_->ReevaluateDueCustomers(kNow, 100).status(); }});
}

TEST_P(FaultInjectionTest, ADryRunFailsWithoutEffectAndAReadFailsCleanly) {
  const std::string before = Dump();
  for (int64_t n = 1; n < 40; ++n) {
    faulty_->FailAt(n, absl::UnavailableError("injected: busy"));
    const absl::StatusOr<Store::SettingsUpdate> preview =
        store_->UpdateSettings(s_.uuid, SaveSettings(kKeep, kNow), true, kNow);
    const bool fired = faulty_->fired();
    faulty_->Disarm();
    EXPECT_EQ(preview.ok(), !fired) << n;
    EXPECT_EQ(Dump(), before) << n;
  }
}

}  // namespace
}  // namespace recurrent::core::testing
