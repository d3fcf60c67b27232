// Customers' facts blobs (persistence/customer_facts_blob.h), on every
// backend: after every kind of write, cascades included, what
// LoadCustomerState reads from a customer's blob equals what it reads from
// the rows, and every committed customer has its blob. Checked through the
// interface, switching the process-wide FactsBlobReads between kRequire
// (the blob, or an error) and kIgnore (the rows).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/customer_facts_blob.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"
#include "tests/persistence/backend_conformance.h"
#include "tests/persistence/raw_db.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence::testing {
namespace {

using ::recurrent::testing::StatusIs;

std::string T(const std::optional<absl::Time>& t) {
  return t.has_value() ? absl::StrCat(absl::ToUnixMicros(*t)) : "-";
}

// Every field of `state`, as text (a failure shows which differ).
std::string Describe(const CustomerState& state) {
  const Customer& c = state.customer;
  std::string out = absl::StrCat(
      "key=", state.key, " uuid=", c.uuid, " primary=", c.data_source_uuid,
      "/", c.external_id, " name=", c.name, " email=", c.email,
      " company=", c.company, " country=", c.country, " state=", c.state,
      " city=", c.city, " zip=", c.zip, " lead=", T(c.lead_created_at),
      " trial=", T(c.free_trial_started_at),
      " status=", static_cast<int>(c.status), " reason=", c.status_reason,
      " tags=[", absl::StrJoin(c.tags, ","), "] derived=[",
      absl::StrJoin(c.derived_tags, ","), "] created=", T(c.created_at),
      " updated=", T(c.updated_at), " next=", T(state.next_transition_at),
      " digest=", state.mrr_digest.has_value() ? *state.mrr_digest : -1,
      "\nexternal ids:");
  for (const ExternalId& id : c.external_ids) {
    absl::StrAppend(&out, " ", id.data_source_uuid, "/", id.external_id);
  }
  for (const engine::Invoice& invoice : state.facts.invoices) {
    absl::StrAppend(&out, "\ninvoice ", invoice.data_source_uuid, "/",
                    invoice.external_id, " ", invoice.currency, " due ",
                    T(invoice.due_date));
    for (const engine::LineItem& item : invoice.line_items) {
      absl::StrAppend(&out, "\n  item ", static_cast<int>(item.type), " ",
                      item.subscription_external_id, " ",
                      T(item.service_period_start), "..",
                      T(item.service_period_end), " ", item.amount_in_cents,
                      " tax ", item.tax_amount_in_cents, " prorated ",
                      item.prorated);
    }
    for (const engine::Transaction& transaction : invoice.transactions) {
      absl::StrAppend(
          &out, "\n  transaction ", static_cast<int>(transaction.type), " ",
          static_cast<int>(transaction.result), " ", T(transaction.date), " ",
          transaction.amount_in_cents.has_value()
              ? absl::StrCat(*transaction.amount_in_cents)
              : "all");
    }
  }
  std::vector<std::string> cancellations;
  for (const engine::Cancellation& cancellation : state.facts.cancellations) {
    cancellations.push_back(absl::StrCat(cancellation.data_source_uuid, "/",
                                         cancellation.subscription_external_id,
                                         "@", T(cancellation.cancelled_at)));
  }
  std::sort(cancellations.begin(), cancellations.end());
  absl::StrAppend(&out, "\ncancellations: ", absl::StrJoin(cancellations, " "));
  for (const SettingsRow& settings : state.settings) {
    absl::StrAppend(&out, "\nsettings ", settings.data_source_uuid, " v",
                    settings.version);
  }
  for (const SubscriptionRow& row : state.subscriptions) {
    absl::StrAppend(&out, "\nsubscription ", row.key, " ", row.source_key, " ",
                    row.ref.uuid, " ", row.ref.customer_uuid, " ",
                    row.ref.data_source_uuid, "/", row.ref.external_id, " ",
                    engine::SubscriptionStatusName(row.evaluation.status));
  }
  std::vector<std::string> events;
  for (const EventRow& event : state.events) {
    events.push_back(absl::StrCat(event.key, ":", event.subscription_key, ":",
                                  static_cast<int>(event.type), "@",
                                  T(event.occurred_at)));
  }
  std::sort(events.begin(), events.end());
  absl::StrAppend(&out, "\nevents: ", absl::StrJoin(events, " "));
  return out;
}

class FactsBlobTest : public BackendConformanceTest {
 protected:
  void TearDown() override {
    SetFactsBlobReads(FactsBlobReads::kUse);
    BackendConformanceTest::TearDown();
  }

  // A connection of its own to the test server (RECURRENT_PG_URI), outside
  // the backend, for what a test does behind the backend's back.
  static absl::StatusOr<std::unique_ptr<postgres::Connection>>
  AdminConnection() {
    const char* uri = std::getenv("RECURRENT_PG_URI");
    if (uri == nullptr)
      return absl::FailedPreconditionError("no RECURRENT_PG_URI");
    return postgres::Connection::Open(uri);
  }

  absl::StatusOr<CustomerState> Load(const std::string& uuid,
                                     FactsBlobReads mode) {
    SetFactsBlobReads(mode);
    absl::StatusOr<std::unique_ptr<ReadTransaction>> txn =
        backend_->BeginRead();
    if (!txn.ok()) return txn.status();
    absl::StatusOr<CustomerState> state =
        (*txn)->LoadCustomerState(uuid, /*with_events=*/true);
    SetFactsBlobReads(FactsBlobReads::kUse);
    return state;
  }

  // Each customer has its blob, and reads from it what its rows hold.
  void ExpectBlobsMatchRows(const std::vector<std::string>& uuids) {
    for (const std::string& uuid : uuids) {
      SCOPED_TRACE(uuid);
      absl::StatusOr<CustomerState> blob = Load(uuid, FactsBlobReads::kRequire);
      ASSERT_OK(blob);
      absl::StatusOr<CustomerState> rows = Load(uuid, FactsBlobReads::kIgnore);
      ASSERT_OK(rows);
      EXPECT_EQ(Describe(*blob), Describe(*rows));
    }
  }

  void ExpectGone(const std::string& uuid) {
    for (FactsBlobReads mode :
         {FactsBlobReads::kRequire, FactsBlobReads::kIgnore}) {
      EXPECT_THAT(Load(uuid, mode), StatusIs(absl::StatusCode::kNotFound));
    }
  }

  std::unique_ptr<WriteTransaction> Begin() {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    EXPECT_OK(txn);
    return txn.ok() ? *std::move(txn) : nullptr;
  }

  // An invoice of `customer` in `source` with two subscription line items
  // (`sub` and `sub`-b), a one-time fee and a partial payment.
  Invoice RichInvoice(const std::string& customer, const std::string& source,
                      const std::string& id, const std::string& sub) {
    Invoice invoice;
    invoice.uuid = absl::StrCat("inv_", id);
    invoice.external_id = absl::StrCat(id, "-inv");
    invoice.customer_uuid = customer;
    invoice.data_source_uuid = source;
    invoice.date = Tick();
    invoice.due_date = invoice.date + absl::Hours(24 * 7);
    invoice.currency = "USD";
    for (int i = 0; i < 3; ++i) {
      LineItem item;
      item.uuid = absl::StrCat("li_", id, "-", i);
      item.external_id = absl::StrCat(id, "-li-", i);
      item.type = i == 2 ? engine::LineItemType::kOneTime
                         : engine::LineItemType::kSubscription;
      if (i < 2) {
        item.subscription_external_id = i == 0 ? sub : absl::StrCat(sub, "-b");
      }
      item.service_period_start = invoice.date;
      item.service_period_end = invoice.date + absl::Hours(24 * 30);
      item.amount_in_cents = 1000 * (i + 1);
      item.quantity = 1;
      item.tax_amount_in_cents = 19 * i;
      item.prorated = i == 1;
      item.description = "fee";
      invoice.line_items.push_back(item);
    }
    Transaction payment;
    payment.uuid = absl::StrCat("tr_", id);
    payment.external_id = absl::StrCat(id, "-tr");
    payment.type = engine::TransactionType::kPayment;
    payment.result = engine::TransactionResult::kSuccessful;
    payment.date = *invoice.due_date;
    payment.amount_in_cents = 1500;
    invoice.transactions.push_back(payment);
    return invoice;
  }
};

TEST_P(FactsBlobTest, ANewCustomerHasItsBlob) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  ExpectBlobsMatchRows({a.uuid});
}

// PostgreSQL sends byteas as the session's bytea_output says; a database
// (or role) set to 'escape' must not make blobs unreadable.
TEST_P(FactsBlobTest, BlobsReadWhateverTheServersByteaOutput) {
  if (GetParam().name == "Sqlite") {
    GTEST_SKIP() << "a PostgreSQL setting";
  }
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<postgres::Connection> admin,
                       AdminConnection());
  ASSERT_OK(admin->Execute(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET bytea_output = "
      "''escape''', current_database()); END $$"));
  // New connections, as after a restart, get the setting.
  absl::StatusOr<std::unique_ptr<Backend>> reopened = GetParam().open(dir_);
  absl::StatusOr<CustomerState> state = absl::UnknownError("not read");
  if (reopened.ok()) {
    SetFactsBlobReads(FactsBlobReads::kRequire);
    absl::StatusOr<std::unique_ptr<ReadTransaction>> txn =
        (*reopened)->BeginRead();
    state = txn.ok() ? (*txn)->LoadCustomerState(a.uuid, false) : txn.status();
    SetFactsBlobReads(FactsBlobReads::kUse);
  }
  ASSERT_OK(admin->Execute(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET bytea_output',"
      " current_database()); END $$"));
  ASSERT_OK(reopened);
  ASSERT_OK(state);
  EXPECT_EQ(state->customer.uuid, a.uuid);
}

// A blob this build cannot decode (a newer format, or damage) is only a
// copy: the customer is read from its rows.
TEST_P(FactsBlobTest, AnUnreadableBlobFallsBackToTheRows) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "sub");
  ASSERT_OK_AND_ASSIGN(const CustomerState rows,
                       Load(a.uuid, FactsBlobReads::kIgnore));
  // A blob of an unknown format version.
  if (GetParam().name == "Sqlite") {
    RawDb(dir_ + "/recurrent.db")
        .Exec("UPDATE customer_facts SET facts = x'7f'");
  } else {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<postgres::Connection> admin,
                         AdminConnection());
    std::string schema;
    std::ifstream(dir_ + "/postgres_schema") >> schema;
    ASSERT_FALSE(schema.empty());
    ASSERT_OK(admin->Execute(
        absl::StrCat("UPDATE ", schema, ".customer_facts SET facts = '\\x7f'")
            .c_str()));
  }
  EXPECT_THAT(Load(a.uuid, FactsBlobReads::kRequire),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(const CustomerState read,
                       Load(a.uuid, FactsBlobReads::kUse));
  EXPECT_EQ(Describe(read), Describe(rows));
}

// A write that marks more customers than the rebuild takes at a time (a
// source deleted under many merged customers, an upgrade) rebuilds them
// all before it commits.
TEST_P(FactsBlobTest, AWriteOfManyCustomersBuildsEveryBlob) {
  const DataSourceRow source = NewSource("s");
  std::vector<std::string> uuids;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WriteTransaction> txn,
                       backend_->BeginWrite());
  for (int i = 0; i < 2500; ++i) {
    Customer customer;
    customer.external_id = absl::StrCat("c", i);
    customer.uuid = absl::StrCat("cus_", customer.external_id);
    customer.data_source_uuid = source.uuid;
    customer.external_ids = {{source.uuid, customer.external_id}};
    customer.created_at = Tick();
    customer.updated_at = customer.created_at;
    ASSERT_OK(txn->InsertCustomer(customer));
    uuids.push_back(customer.uuid);
  }
  ASSERT_OK(txn->Commit());
  // Every one has its blob (sampled: the first, the chunks' edges, the last).
  ExpectBlobsMatchRows({uuids[0], uuids[999], uuids[1000], uuids[1999],
                        uuids[2000], uuids[2499]});
}

TEST_P(FactsBlobTest, ImportsPaymentsAndInvoiceDeletions) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "s1");  // subscription and invoice
  ExpectBlobsMatchRows({a.uuid});
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertSubscriptions(
        {SubscriptionRef{"sub_s2", a.uuid, source.uuid, "s2"},
         SubscriptionRef{"sub_s2-b", a.uuid, source.uuid, "s2-b"}}));
    ASSERT_OK(txn->InsertInvoices(
        a.uuid, {RichInvoice(a.uuid, source.uuid, "r1", "s2"),
                 RichInvoice(a.uuid, source.uuid, "r2", "s2")}));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    Transaction failed;
    failed.uuid = "tr_late";
    failed.external_id = "late";
    failed.type = engine::TransactionType::kPayment;
    failed.result = engine::TransactionResult::kFailed;
    failed.date = Tick();
    ASSERT_OK(txn->InsertTransaction("inv_s1", failed));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->DeleteInvoice("inv_r1"));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.facts.invoices.size(), 2u);
}

TEST_P(FactsBlobTest, CancellationsAndSubscriptionDeletions) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  const SubscriptionRef s1 = NewSubscription(a, source.uuid, "s1");
  const SubscriptionRef s2 = NewSubscription(a, source.uuid, "s2");
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertCancellation(s1.uuid, Tick(), Tick()).status());
    ASSERT_OK(txn->InsertCancellation(s2.uuid, Tick(), Tick()).status());
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ASSERT_OK_AND_ASSIGN(CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.facts.cancellations.size(), 2u);
  {
    // Its cancellations go with it (a cascade).
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->DeleteSubscriptions({s1.uuid}));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ASSERT_OK_AND_ASSIGN(state, Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.facts.cancellations.size(), 1u);
}

TEST_P(FactsBlobTest, FieldAndTagUpdates) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "s1");
  CustomerFields fields;
  fields.name = "Renamed";
  fields.email = "a@example.com";
  fields.lead_created_at = Tick();
  for (const std::vector<std::string>& tags :
       {std::vector<std::string>{"b", "vip"}, std::vector<std::string>{"c"},
        std::vector<std::string>{}}) {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->UpdateCustomer(a.uuid, fields, tags, Tick()));
    ASSERT_OK(txn->Commit());
    ExpectBlobsMatchRows({a.uuid});
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         Load(a.uuid, FactsBlobReads::kRequire));
    EXPECT_EQ(state.customer.tags, tags);
    EXPECT_EQ(state.customer.name, "Renamed");
  }
}

TEST_P(FactsBlobTest, MergesMoveEverything) {
  const DataSourceRow s1 = NewSource("one");
  const DataSourceRow s2 = NewSource("two");
  const Customer a = NewCustomer(s1.uuid, "a");
  const Customer b = NewCustomer(s2.uuid, "b");
  NewSubscription(a, s1.uuid, "a1");
  const SubscriptionRef b1 = NewSubscription(b, s2.uuid, "b1");
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertCancellation(b1.uuid, Tick(), Tick()).status());
    ASSERT_OK(txn->UpdateCustomer(b.uuid, b, {"from-b"}, Tick()));
    ASSERT_OK(txn->UpdateCustomer(a.uuid, a, {"from-a"}, Tick()));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid, b.uuid});
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->MoveCustomerRows(b.uuid, a.uuid));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ExpectGone(b.uuid);
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.customer.external_ids.size(), 2u);
  EXPECT_EQ(state.facts.invoices.size(), 2u);
  EXPECT_EQ(state.facts.cancellations.size(), 1u);
  EXPECT_EQ(state.customer.tags, (std::vector<std::string>{"from-a", "from-b"}));
}

TEST_P(FactsBlobTest, DeletingASourceCascadesIntoTheBlobs) {
  const DataSourceRow s1 = NewSource("one");
  const DataSourceRow s2 = NewSource("two");
  const Customer a = NewCustomer(s1.uuid, "a");
  const Customer b = NewCustomer(s2.uuid, "b");
  const Customer c = NewCustomer(s2.uuid, "c");
  NewSubscription(a, s1.uuid, "a1");
  const SubscriptionRef b1 = NewSubscription(b, s2.uuid, "b1");
  NewSubscription(c, s2.uuid, "c1");
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertCancellation(b1.uuid, Tick(), Tick()).status());
    ASSERT_OK(txn->MoveCustomerRows(b.uuid, a.uuid));  // a spans both
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid, c.uuid});
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const std::vector<std::string> remaining,
                         txn->DeleteDataSource(s2.uuid));
    EXPECT_EQ(remaining, std::vector<std::string>{a.uuid});
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ExpectGone(c.uuid);
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.customer.external_ids.size(), 1u);
  EXPECT_EQ(state.facts.invoices.size(), 1u);
  EXPECT_TRUE(state.facts.cancellations.empty());
}

TEST_P(FactsBlobTest, DeletedCustomersLeaveNoBlob) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "s1");
  std::unique_ptr<WriteTransaction> txn = Begin();
  ASSERT_NE(txn, nullptr);
  ASSERT_OK(txn->DeleteCustomer(a.uuid));
  ASSERT_OK(txn->Commit());
  ExpectGone(a.uuid);
  // A new customer is not confused with it.
  const Customer b = NewCustomer(source.uuid, "b");
  ExpectBlobsMatchRows({b.uuid});
}

TEST_P(FactsBlobTest, EvaluationWritesKeepTheBlob) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "s1");
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         txn->LoadCustomerState(a.uuid, false));
    EvaluationWrite write;
    write.customer_key = state.key;
    write.customer = EvaluationWrite::CustomerUpdate{};
    write.customer->status = CustomerStatus::kActive;
    write.customer->status_reason = "active";
    write.customer->derived_tags = {"paying"};
    write.customer->next_transition_at = Tick();
    EvaluationWrite::SubscriptionUpdate update;
    update.key = state.subscriptions.at(0).key;
    update.evaluation.status = engine::SubscriptionStatus::kActive;
    update.evaluation.started_at = Tick();
    write.subscriptions.push_back(update);
    ASSERT_OK(txn->WriteEvaluation(write));
    ASSERT_OK(txn->Commit());
  }
  ExpectBlobsMatchRows({a.uuid});
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.customer.status, CustomerStatus::kActive);
  EXPECT_EQ(state.subscriptions.at(0).evaluation.status,
            engine::SubscriptionStatus::kActive);
}

TEST_P(FactsBlobTest, AWriteSeesItsOwnFactsAndARollbackKeepsTheBlob) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "s1");
  {
    std::unique_ptr<WriteTransaction> txn = Begin();
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertInvoices(
        a.uuid, {RichInvoice(a.uuid, source.uuid, "r1", "s1")}));
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         txn->LoadCustomerState(a.uuid, false));
    EXPECT_EQ(state.facts.invoices.size(), 2u);
  }  // rolled back
  ExpectBlobsMatchRows({a.uuid});
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       Load(a.uuid, FactsBlobReads::kRequire));
  EXPECT_EQ(state.facts.invoices.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, FactsBlobTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

}  // namespace
}  // namespace recurrent::persistence::testing
