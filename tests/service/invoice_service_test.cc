// InvoiceService and the subscription RPCs through a real server: imports,
// validation (each rejected request stores nothing), idempotency, payments,
// cancellations, deletes, stored statuses that follow time, and restarts.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"

namespace recurrent::service::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class InvoiceServiceTest : public ApiTest {
 protected:
  void SetUp() override {
    source_ = CreateSource("Stripe");
    customer_ = CreateCustomer(source_, "c1");
  }

  std::string source_;
  std::string customer_;
};

TEST_F(InvoiceServiceTest, ImportReturnsAndStoresEveryField) {
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer_);
  v1::Invoice* invoice = request.add_invoices();
  *invoice = MakeInvoice({"INV-1",
                          "sub-1",
                          T("2025-01-01"),
                          T("2025-02-01"),
                          4900,
                          T("2025-01-08"),
                          {Payment{T("2025-01-05"), 900}}});
  v1::LineItem* item = invoice->mutable_line_items(0);
  item->set_quantity(3);
  item->set_discount_amount_in_cents(100);
  item->set_tax_amount_in_cents(931);
  item->set_prorated(true);
  item->set_description("Pro plan");
  grpc::ClientContext context;
  v1::ImportInvoicesResponse response;
  ASSERT_TRUE(invoices_->ImportInvoices(&context, request, &response).ok());
  ASSERT_THAT(response.invoices(), SizeIs(1));
  const v1::Invoice& stored = response.invoices(0);
  EXPECT_THAT(stored.uuid(), ::testing::StartsWith("inv_"));
  EXPECT_THAT(stored.line_items(0).uuid(), ::testing::StartsWith("li_"));
  EXPECT_THAT(stored.transactions(0).uuid(), ::testing::StartsWith("tr_"));
  EXPECT_EQ(stored.customer_uuid(), customer_);
  EXPECT_EQ(stored.data_source_uuid(), source_);

  // Everything but the assigned ids and defaults round-trips.
  v1::Invoice expected = *invoice;
  expected.set_uuid(stored.uuid());
  expected.set_customer_uuid(customer_);
  expected.set_data_source_uuid(source_);
  expected.mutable_line_items(0)->set_uuid(stored.line_items(0).uuid());
  expected.mutable_transactions(0)->set_uuid(stored.transactions(0).uuid());
  EXPECT_EQ(stored.DebugString(), expected.DebugString());

  grpc::ClientContext get_context;
  v1::GetInvoiceRequest get;
  get.set_uuid(stored.uuid());
  v1::Invoice got;
  ASSERT_TRUE(invoices_->GetInvoice(&get_context, get, &got).ok());
  EXPECT_EQ(got.DebugString(), expected.DebugString());
}

TEST_F(InvoiceServiceTest, ReimportingTheSameInvoiceIsANoOp) {
  v1::ImportInvoicesResponse first, second;
  const std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 2);
  ASSERT_TRUE(Import(customer_, specs, &first).ok());
  ASSERT_TRUE(Import(customer_, specs, &second).ok());
  EXPECT_EQ(first.DebugString(), second.DebugString());
  EXPECT_THAT(ListInvoices(customer_), SizeIs(2));
}

TEST_F(InvoiceServiceTest, ConflictingReimportStoresNothingOfTheBatch) {
  MustImport(customer_, Monthly("sub-1", T("2025-01-01"), 1));
  std::vector<InvoiceSpec> batch = Monthly("sub-1", T("2025-01-01"), 3);
  batch[0].amount = 9900;  // same external id, different content
  grpc::Status status = Import(customer_, batch);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(batch[0].external_id));
  EXPECT_THAT(ListInvoices(customer_), SizeIs(1));
}

TEST_F(InvoiceServiceTest, SubscriptionOfAnotherCustomerIsAPrecondition) {
  MustImport(customer_, Monthly("sub-1", T("2025-01-01"), 1));
  const std::string other = CreateCustomer(source_, "c2");
  InvoiceSpec stolen{"INV-X", "sub-1", T("2025-02-01"), T("2025-03-01")};
  grpc::Status status = Import(other, {stolen});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("sub-1"));
  EXPECT_THAT(ListInvoices(other), IsEmpty());
}

TEST_F(InvoiceServiceTest, EveryValidationErrorNamesItsFieldAndStoresNothing) {
  struct Case {
    std::string field;
    std::function<void(v1::ImportInvoicesRequest&)> mutate;
    grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
  };
  const std::vector<Case> cases = {
      {"customer_uuid", [](auto& r) { r.set_customer_uuid(""); }},
      {"cus_missing", [](auto& r) { r.set_customer_uuid("cus_missing"); },
       grpc::StatusCode::NOT_FOUND},
      {"invoices", [](auto& r) { r.clear_invoices(); }},
      {"invoices",
       [](auto& r) {
         for (int i = 0; i < 1001; ++i) *r.add_invoices() = r.invoices(0);
       }},
      {"invoices[1].external_id",
       [](auto& r) { r.mutable_invoices(1)->set_external_id(""); }},
      {"invoices[1].external_id",
       [](auto& r) {
         r.mutable_invoices(1)->set_external_id(r.invoices(0).external_id());
       }},
      {"invoices[1].currency",
       [](auto& r) { r.mutable_invoices(1)->set_currency("EURO"); }},
      {"invoices[1].currency",
       [](auto& r) { r.mutable_invoices(1)->set_currency(""); }},
      {"invoices[1].date",
       [](auto& r) { r.mutable_invoices(1)->clear_date(); }},
      {"invoices[1].due_date",
       [](auto& r) {
         *r.mutable_invoices(1)->mutable_due_date() =
             TimeToProto(T("2024-12-01"));
       }},
      {"invoices[1].data_source_uuid",
       [](auto& r) { r.mutable_invoices(1)->set_data_source_uuid("cus_x"); }},
      {"invoices[1].line_items",
       [](auto& r) { r.mutable_invoices(1)->clear_line_items(); }},
      {"invoices[1].line_items[0].external_id",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->clear_external_id();
       }},
      {"invoices[1].line_items[0].type",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->set_type(
             v1::LINE_ITEM_TYPE_UNSPECIFIED);
       }},
      {"invoices[1].line_items[0].subscription_external_id",
       [](auto& r) {
         r.mutable_invoices(1)
             ->mutable_line_items(0)
             ->clear_subscription_external_id();
       }},
      {"invoices[1].line_items[0].subscription_external_id",
       [](auto& r) {
         auto* item = r.mutable_invoices(1)->mutable_line_items(0);
         item->set_type(v1::LINE_ITEM_TYPE_TRIAL);
         item->clear_subscription_external_id();
       }},
      {"invoices[1].line_items[0].service_period_end",
       [](auto& r) {
         auto* item = r.mutable_invoices(1)->mutable_line_items(0);
         *item->mutable_service_period_end() = item->service_period_start();
       }},
      {"invoices[1].line_items[0].service_period_start",
       [](auto& r) {
         r.mutable_invoices(1)
             ->mutable_line_items(0)
             ->clear_service_period_start();
       }},
      {"invoices[1].line_items[0].quantity",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->set_quantity(-1);
       }},
      {"invoices[1].transactions[0].date",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_transactions(0)->clear_date();
       }},
      {"invoices[1].transactions[0].external_id",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_transactions(0)->clear_external_id();
       }},
      {"invoices[1].transactions[0].type",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_transactions(0)->set_type(
             v1::TRANSACTION_TYPE_UNSPECIFIED);
       }},
      {"invoices[1].transactions[0].amount_in_cents",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_transactions(0)->set_amount_in_cents(
             -5);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer_);
    for (const InvoiceSpec& spec : Monthly("sub-1", T("2025-01-01"), 2)) {
      *request.add_invoices() = MakeInvoice(spec);
    }
    c.mutate(request);
    grpc::ClientContext context;
    v1::ImportInvoicesResponse response;
    grpc::Status status =
        invoices_->ImportInvoices(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());
  EXPECT_THAT(Subscriptions(customer_, T("2025-01-15")), IsEmpty());
}

TEST_F(InvoiceServiceTest, AmountsAreBoundedSoNoTotalOverflows) {
  // Two line items of INT64_MAX once summed to a negative amount due (the
  // unpaid invoice read as paid); payments near INT64_MAX wrapped too.
  constexpr int64_t kMax = 1'000'000'000'000'000;  // cents
  constexpr int64_t kHuge = std::numeric_limits<int64_t>::max();
  struct Case {
    std::string field;
    std::function<void(v1::Invoice&)> mutate;
  };
  const std::vector<Case> cases = {
      {"invoices[0].line_items[0].amount_in_cents",
       [&](v1::Invoice& i) {
         i.mutable_line_items(0)->set_amount_in_cents(kHuge);
       }},
      {"invoices[0].line_items[0].amount_in_cents",
       [&](v1::Invoice& i) {
         i.mutable_line_items(0)->set_amount_in_cents(-kMax - 1);
       }},
      {"invoices[0].line_items[0].discount_amount_in_cents",
       [&](v1::Invoice& i) {
         i.mutable_line_items(0)->set_discount_amount_in_cents(kMax + 1);
       }},
      {"invoices[0].line_items[0].tax_amount_in_cents",
       [&](v1::Invoice& i) {
         i.mutable_line_items(0)->set_tax_amount_in_cents(kHuge);
       }},
      {"invoices[0].line_items[0].quantity",
       [&](v1::Invoice& i) {
         i.mutable_line_items(0)->set_quantity(1'000'000'001);
       }},
      {"invoices[0].transactions[0].amount_in_cents",
       [&](v1::Invoice& i) {
         i.mutable_transactions(0)->set_amount_in_cents(kMax + 1);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer_);
    *request.add_invoices() =
        MakeInvoice(Monthly("sub-1", T("2025-01-01"), 1)[0]);
    c.mutate(*request.mutable_invoices(0));
    grpc::ClientContext context;
    v1::ImportInvoicesResponse response;
    const grpc::Status status =
        invoices_->ImportInvoices(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());

  // At the bounds: two line items of the largest amount, unpaid, make a
  // large positive amount due: the subscription is past due, not active.
  InvoiceSpec spec{"INV-big",       "sub-1", T("2025-01-01"),
                   T("2025-02-01"), kMax,    T("2025-01-01")};
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer_);
  v1::Invoice* invoice = request.add_invoices();
  *invoice = MakeInvoice(spec);
  *invoice->add_line_items() = invoice->line_items(0);
  invoice->mutable_line_items(1)->set_external_id("INV-big-li-2");
  grpc::ClientContext context;
  v1::ImportInvoicesResponse response;
  ASSERT_TRUE(invoices_->ImportInvoices(&context, request, &response).ok());
  EXPECT_EQ(StatusAt(customer_, T("2025-01-10")),
            v1::SUBSCRIPTION_STATUS_PAST_DUE);
}

TEST_F(InvoiceServiceTest, AddTransactionAndItsErrors) {
  v1::ImportInvoicesResponse imported;
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 1);
  specs[0].payments.clear();
  ASSERT_TRUE(Import(customer_, specs, &imported).ok());
  const std::string invoice = imported.invoices(0).uuid();
  EXPECT_EQ(Pay("inv_missing", "p", T("2025-01-02")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Pay(source_, "p", T("2025-01-02")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Pay(invoice, "p", T("2025-01-02")).ok());
  ASSERT_TRUE(Pay(invoice, "p", T("2025-01-02")).ok());  // identical: no-op
  EXPECT_EQ(Pay(invoice, "p", T("2025-01-03")).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(ListInvoices(customer_)[0].transactions(), SizeIs(1));
}

TEST_F(InvoiceServiceTest, CancelSubscriptionErrors) {
  MustImport(customer_, Monthly("sub-1", T("2025-01-01"), 2));
  server_.clock().Set(T("2025-01-20"));
  const std::string sub = Subscription(customer_, T("2025-01-10")).uuid();
  EXPECT_EQ(Cancel(sub, T("2025-01-21")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // in the future
  EXPECT_EQ(Cancel("sub_missing", T("2025-01-10")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Cancel(sub, T("2024-12-01")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // before it started
  EXPECT_EQ(StatusAt(customer_, T("2025-01-20")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
  v1::Subscription cancelled;
  ASSERT_TRUE(Cancel(sub, T("2025-01-10"), &cancelled).ok());
  EXPECT_EQ(cancelled.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.cancelled_at().seconds(),
            absl::ToUnixSeconds(T("2025-01-10")));
}

TEST_F(InvoiceServiceTest, DeleteInvoiceRemovesItsSubscription) {
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(
      Import(customer_, Monthly("sub-1", T("2025-01-01"), 1), &imported).ok());
  grpc::ClientContext context;
  v1::DeleteInvoiceRequest request;
  request.set_uuid(imported.invoices(0).uuid());
  google::protobuf::Empty empty;
  ASSERT_TRUE(invoices_->DeleteInvoice(&context, request, &empty).ok());
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());
  EXPECT_THAT(Subscriptions(customer_, T("2025-01-10")), IsEmpty());
  EXPECT_EQ(GetCustomer(customer_).status(), v1::CUSTOMER_STATUS_LEAD);
  grpc::ClientContext again;
  EXPECT_EQ(invoices_->DeleteInvoice(&again, request, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(InvoiceServiceTest, StoredStatusFollowsTimeWithNoWrites) {
  // Now is 2025-01-01; February's invoice falls due on Feb 1 and is unpaid.
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 2);
  specs[1].payments.clear();
  MustImport(customer_, specs);
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_ACTIVE),
              ElementsAre(customer_));
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE), IsEmpty());

  server_.clock().Set(T("2025-01-31T23:59:59"));
  ASSERT_TRUE(server_.server().reevaluator().RunOnce().ok());
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE), IsEmpty());

  server_.clock().Set(T("2025-02-01T00:00:01"));
  absl::StatusOr<int> recomputed = server_.server().reevaluator().RunOnce();
  ASSERT_TRUE(recomputed.ok());
  EXPECT_EQ(*recomputed, 1);
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE),
              ElementsAre(customer_));
  // Nothing is due again until the next instant anything changes.
  EXPECT_EQ(*server_.server().reevaluator().RunOnce(), 0);
}

TEST_F(InvoiceServiceTest, EverythingSurvivesARestart) {
  MustImport(customer_, Monthly("sub-1", T("2025-01-01"), 3));
  const std::vector<v1::Invoice> before = ListInvoices(customer_);
  const std::vector<std::string> events = EventStrings(customer_);
  server_.Restart();
  settings_ = server_.settings_stub();
  customers_ = server_.customer_stub();
  invoices_ = server_.invoice_stub();
  const std::vector<v1::Invoice> after = ListInvoices(customer_);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].DebugString(), before[i].DebugString());
  }
  EXPECT_EQ(EventStrings(customer_), events);
  EXPECT_EQ(StatusAt(customer_, T("2025-02-10")),
            v1::SUBSCRIPTION_STATUS_ACTIVE);
}

}  // namespace
}  // namespace recurrent::service::testing
