// InvoiceService and the subscription RPCs through a real server: imports,
// validation (each rejected request stores nothing), idempotency, payments,
// cancellations, deletes, stored statuses that follow time, and restarts.
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
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
  // Imports one monthly invoice of "sub-1" after `mutate` changed it.
  grpc::Status ImportOneMonthMutated(
      const std::function<void(v1::Invoice&)>& mutate) {
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer_);
    *request.add_invoices() =
        MakeInvoice(Monthly("sub-1", T("2025-01-01"), 1)[0]);
    mutate(*request.mutable_invoices(0));
    grpc::ClientContext context;
    v1::ImportInvoicesResponse response;
    return invoices_->ImportInvoices(&context, request, &response);
  }

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
  // Its amounts as of now (2025-01-01): the payment of Jan 5 is to come.
  expected.set_amount_due_in_cents(4900);
  expected.set_amount_paid_in_cents(0);
  expected.set_open(true);
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
      {"cus_missingmissingmissin",
       [](auto& r) { r.set_customer_uuid("cus_missingmissingmissin"); },
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
      // PostgreSQL's text cannot hold a NUL (a line break is fine).
      {"invoices[1].line_items[0].description",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->set_description(
             std::string("Pro\nplan\0x", 10));
       }},
      // Nor a terminal escape.
      {"invoices[1].line_items[0].description",
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->set_description(
             "\x1b]0;title\x07");
       }},
      {"invoices[1].line_items",
       [](auto& r) {
         auto* invoice = r.mutable_invoices(1);
         for (int i = 0; i < 1000; ++i) {
           *invoice->add_line_items() = invoice->line_items(0);
         }
       }},
      {"invoices[1].transactions",
       [](auto& r) {
         auto* invoice = r.mutable_invoices(1);
         for (int i = 0; i < 1000; ++i) {
           *invoice->add_transactions() = invoice->transactions(0);
         }
       }},
      {"invoices[1].line_items[0].external_id",  // blank (empty derives one)
       [](auto& r) {
         r.mutable_invoices(1)->mutable_line_items(0)->set_external_id("  ");
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
      {"invoices[1].transactions[0].external_id",  // blank
       [](auto& r) {
         r.mutable_invoices(1)->mutable_transactions(0)->set_external_id(" ");
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

// Times are stored to the microsecond: a service period shorter than that
// is refused, naming the field, like an empty one (it was accepted, then
// stored empty or refused by the engine without the field's path).
TEST_F(InvoiceServiceTest, AServicePeriodUnderAMicrosecondIsRefused) {
  for (const char* type : {"SUBSCRIPTION", "ONE_TIME"}) {
    SCOPED_TRACE(type);
    grpc::Status status = ImportOneMonthMutated([&](v1::Invoice& invoice) {
      v1::LineItem& item = *invoice.mutable_line_items(0);
      if (std::string(type) == "ONE_TIME") {
        item.set_type(v1::LINE_ITEM_TYPE_ONE_TIME);
        item.clear_subscription_external_id();
      }
      item.mutable_service_period_start()->set_nanos(100);
      *item.mutable_service_period_end() = item.service_period_start();
      item.mutable_service_period_end()->set_nanos(900);
    });
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr("invoices[0].line_items[0].service_period_end"));
  }
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());
}

// An invoice without a data_source_uuid is in the customer's source: the
// same external id given with that source is a repeat within the request
// (it was an identical re-send listed twice, or ALREADY_EXISTS).
TEST_F(InvoiceServiceTest, RepeatsAreFoundOnceTheSourceIsResolved) {
  for (const bool same_content : {true, false}) {
    SCOPED_TRACE(same_content);
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer_);
    const std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 2);
    *request.add_invoices() = MakeInvoice(specs[0]);
    *request.add_invoices() = MakeInvoice(specs[same_content ? 0 : 1]);
    request.mutable_invoices(1)->set_external_id(specs[0].external_id);
    request.mutable_invoices(1)->set_data_source_uuid(source_);
    grpc::ClientContext context;
    v1::ImportInvoicesResponse response;
    const grpc::Status status =
        invoices_->ImportInvoices(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr("invoices[1].external_id: duplicates the invoice "
                          "at invoices[0].external_id"));
  }
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());
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
    const grpc::Status status = ImportOneMonthMutated(c.mutate);
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
  EXPECT_EQ(Pay("inv_missingmissingmissin", "p", T("2025-01-02")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Pay(source_, "p", T("2025-01-02")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Pay(invoice, "p", T("2025-01-02")).ok());
  ASSERT_TRUE(Pay(invoice, "p", T("2025-01-02")).ok());  // identical: no-op
  EXPECT_EQ(Pay(invoice, "p", T("2025-01-03")).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(ListInvoices(customer_)[0].transactions(), SizeIs(1));
}

// GetInvoice at `as_of` (now if nullopt); fails the test on error.
v1::Invoice GetInvoiceAt(v1::InvoiceService::Stub& stub,
                         const std::string& uuid,
                         std::optional<absl::Time> as_of) {
  grpc::ClientContext context;
  v1::GetInvoiceRequest request;
  request.set_uuid(uuid);
  if (as_of) *request.mutable_as_of() = TimeToProto(*as_of);
  v1::Invoice out;
  const grpc::Status status = stub.GetInvoice(&context, request, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out;
}

TEST_F(InvoiceServiceTest, AmountPaidAndOpenFollowAsOf) {
  // 4900 due: 2000 paid on Jan 10, a failed payment on Jan 15, the rest
  // (a payment without amount) on Jan 20, a refund on Jan 25.
  InvoiceSpec spec{"INV-1", "sub-1", T("2025-01-01"), T("2025-02-01")};
  spec.due = T("2025-01-01");
  spec.payments = {Payment{T("2025-01-10"), 2000},
                   Payment{T("2025-01-15"), 2900, /*failed=*/true},
                   Payment{T("2025-01-20")},
                   Payment{T("2025-01-25"), 4900, false, /*refund=*/true}};
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer_, {spec}, &imported).ok());
  // The response is as of now, 2025-01-01: nothing paid yet.
  EXPECT_EQ(imported.invoices(0).amount_due_in_cents(), 4900);
  EXPECT_EQ(imported.invoices(0).amount_paid_in_cents(), 0);
  EXPECT_TRUE(imported.invoices(0).open());
  const std::string uuid = imported.invoices(0).uuid();

  struct Case {
    std::string as_of;
    int64_t paid;
    bool open;
  };
  const std::vector<Case> cases = {
      {"2024-12-31", 0, false},             // not issued yet
      {"2025-01-10", 2000, true},           // the partial payment
      {"2025-01-19T23:59:59", 2000, true},  // the failed one changes nothing
      {"2025-01-20", 4900, false},          // the rest is paid
      {"2025-01-25", 4900, false},          // the refund changes nothing
      {"2030-01-01", 4900, false},          // the future
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.as_of);
    const v1::Invoice got = GetInvoiceAt(*invoices_, uuid, T(c.as_of));
    EXPECT_EQ(got.amount_due_in_cents(), 4900);
    EXPECT_EQ(got.amount_paid_in_cents(), c.paid);
    EXPECT_EQ(got.open(), c.open);
    // ListInvoices answers the same at the same instant.
    grpc::ClientContext context;
    v1::ListInvoicesRequest request;
    request.set_customer_uuid(customer_);
    *request.mutable_as_of() = TimeToProto(T(c.as_of));
    v1::ListInvoicesResponse response;
    ASSERT_TRUE(invoices_->ListInvoices(&context, request, &response).ok());
    ASSERT_THAT(response.invoices(), SizeIs(1));
    EXPECT_EQ(response.invoices(0).amount_paid_in_cents(), c.paid);
    EXPECT_EQ(response.invoices(0).open(), c.open);
  }

  // Without as_of, the server's now.
  EXPECT_TRUE(GetInvoiceAt(*invoices_, uuid, std::nullopt).open());
  server_.clock().Set(T("2025-01-12"));
  EXPECT_EQ(GetInvoiceAt(*invoices_, uuid, std::nullopt).amount_paid_in_cents(),
            2000);
  server_.clock().Set(T("2025-01-21"));
  const v1::Invoice now = GetInvoiceAt(*invoices_, uuid, std::nullopt);
  EXPECT_EQ(now.amount_paid_in_cents(), 4900);
  EXPECT_FALSE(now.open());
  EXPECT_EQ(ListInvoices(customer_).at(0).DebugString(), now.DebugString());

  // A bad as_of names its field.
  grpc::ClientContext context;
  v1::GetInvoiceRequest request;
  request.set_uuid(uuid);
  request.mutable_as_of()->set_seconds(-1'000'000'000'000);
  v1::Invoice out;
  const grpc::Status status = invoices_->GetInvoice(&context, request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("as_of"));
}

TEST_F(InvoiceServiceTest, AddTransactionCountsFromItsDate) {
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 1);
  specs[0].payments.clear();
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer_, specs, &imported).ok());
  const std::string uuid = imported.invoices(0).uuid();
  EXPECT_TRUE(GetInvoiceAt(*invoices_, uuid, T("2025-03-01")).open());
  ASSERT_TRUE(Pay(uuid, "p-1", T("2025-01-02"), 900).ok());
  v1::Invoice got = GetInvoiceAt(*invoices_, uuid, T("2025-03-01"));
  EXPECT_EQ(got.amount_paid_in_cents(), 900);
  EXPECT_TRUE(got.open());
  ASSERT_TRUE(Pay(uuid, "p-2", T("2025-01-03")).ok());  // pays the rest
  got = GetInvoiceAt(*invoices_, uuid, T("2025-03-01"));
  EXPECT_EQ(got.amount_paid_in_cents(), 4900);
  EXPECT_FALSE(got.open());
  EXPECT_TRUE(GetInvoiceAt(*invoices_, uuid, T("2025-01-02")).open());
}

TEST_F(InvoiceServiceTest, ListInvoicesOpenFilterPagesAtAsOf) {
  // Ten monthly invoices due at their start: those of even months paid at
  // their start, those of odd months paid on 2025-06-15.
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 10);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i % 2 == 1) specs[i].payments = {Payment{T("2025-06-15")}};
  }
  v1::ImportInvoicesResponse imported;
  ASSERT_TRUE(Import(customer_, specs, &imported).ok());
  auto uuids_where = [&](auto keep) {
    std::vector<std::string> out;
    for (int i = 0; i < imported.invoices_size(); ++i) {
      if (keep(i)) out.push_back(imported.invoices(i).uuid());
    }
    return out;
  };
  // Every page of ListInvoices(open, as_of) with `page_size`; checks each
  // invoice shown has the asked open-ness.
  auto list = [&](bool open, absl::Time as_of, int page_size) {
    std::vector<std::string> out;
    v1::ListInvoicesRequest request;
    request.set_customer_uuid(customer_);
    request.set_open(open);
    *request.mutable_as_of() = TimeToProto(as_of);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      grpc::ClientContext context;
      v1::ListInvoicesResponse response;
      const grpc::Status status =
          invoices_->ListInvoices(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_LE(response.invoices_size(), page_size);
      for (const v1::Invoice& invoice : response.invoices()) {
        EXPECT_EQ(invoice.open(), open) << invoice.external_id();
        out.push_back(invoice.uuid());
      }
      if (!status.ok() || response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  };
  for (const int page_size : {1, 3, 1000}) {
    SCOPED_TRACE(page_size);
    // On May 1, January's to May's are issued: February's and April's are
    // open; the others paid or not issued yet (not open).
    EXPECT_EQ(list(true, T("2025-05-01"), page_size),
              uuids_where([](int i) { return i % 2 == 1 && i <= 4; }));
    EXPECT_EQ(list(false, T("2025-05-01"), page_size),
              uuids_where([](int i) { return !(i % 2 == 1 && i <= 4); }));
    // On June 14, June's is issued and open too; on June 15 the odd ones are
    // paid, and July's is not issued yet.
    EXPECT_THAT(list(true, T("2025-06-14"), page_size),
                ElementsAre(imported.invoices(1).uuid(),
                            imported.invoices(3).uuid(),
                            imported.invoices(5).uuid()));
    EXPECT_THAT(list(true, T("2025-06-15"), page_size), IsEmpty());
    EXPECT_THAT(list(false, T("2026-01-01"), page_size),
                SizeIs(imported.invoices_size()));
    EXPECT_THAT(list(true, T("2026-01-01"), page_size), IsEmpty());
  }
  // Without the filter, everything, with open as of now (2025-01-01): only
  // January's is issued, and it is paid.
  const std::vector<v1::Invoice> all = ListInvoices(customer_);
  ASSERT_THAT(all, SizeIs(10));
  for (const v1::Invoice& invoice : all) {
    EXPECT_FALSE(invoice.open()) << invoice.external_id();
  }
  server_.clock().Set(T("2025-02-01"));
  EXPECT_TRUE(ListInvoices(customer_).at(1).open());
}

TEST_F(InvoiceServiceTest, ATokenIsRefusedByAnotherOpenFilter) {
  MustImport(customer_, Monthly("sub-1", T("2024-10-01"), 3));
  v1::ListInvoicesRequest request;
  request.set_customer_uuid(customer_);
  request.set_open(false);
  request.set_page_size(1);
  v1::ListInvoicesResponse first;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(invoices_->ListInvoices(&context, request, &first).ok());
  }
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  for (const std::optional<bool> open :
       {std::optional<bool>(true), std::optional<bool>()}) {
    if (open.has_value()) {
      request.set_open(*open);
    } else {
      request.clear_open();
    }
    grpc::ClientContext context;
    v1::ListInvoicesResponse response;
    const grpc::Status status =
        invoices_->ListInvoices(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  }
  request.set_open(false);
  grpc::ClientContext context;
  v1::ListInvoicesResponse response;
  EXPECT_TRUE(invoices_->ListInvoices(&context, request, &response).ok());
}

TEST_F(InvoiceServiceTest, ListInvoicesOfAnUnknownOrMergedCustomerIsNotFound) {
  const std::string other = CreateCustomer(source_, "other");
  MustImport(other, Monthly("sub-o", T("2024-10-01"), 1));
  ASSERT_TRUE(Merge(other, customer_).ok());
  for (const std::string& uuid :
       {other, std::string("cus_doesnotexistdoesnote")}) {
    v1::ListInvoicesRequest request;
    request.set_customer_uuid(uuid);
    grpc::ClientContext context;
    v1::ListInvoicesResponse response;
    EXPECT_EQ(
        invoices_->ListInvoices(&context, request, &response).error_code(),
        grpc::StatusCode::NOT_FOUND)
        << uuid;
  }
  v1::ListInvoicesRequest by_source;
  by_source.set_data_source_uuid("ds_doesnotexistdoesnote");
  grpc::ClientContext context;
  v1::ListInvoicesResponse response;
  EXPECT_EQ(
      invoices_->ListInvoices(&context, by_source, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(InvoiceServiceTest, LineItemAndTransactionIdsAreDerivedWhenOmitted) {
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer_);
  v1::Invoice* invoice = request.add_invoices();
  *invoice =
      MakeInvoice({"INV-7",
                   "sub-1",
                   T("2025-01-01"),
                   T("2025-02-01"),
                   4900,
                   T("2025-01-01"),
                   {Payment{T("2025-01-02"), 900}, Payment{T("2025-01-03")}}});
  *invoice->add_line_items() = invoice->line_items(0);
  invoice->mutable_line_items(1)->set_external_id("setup");
  invoice->mutable_line_items(1)->set_type(v1::LINE_ITEM_TYPE_ONE_TIME);
  *invoice->add_line_items() = invoice->line_items(0);
  invoice->mutable_line_items(0)->clear_external_id();
  invoice->mutable_line_items(2)->clear_external_id();
  invoice->mutable_line_items(2)->set_subscription_external_id("sub-2");
  invoice->mutable_transactions(0)->clear_external_id();
  invoice->mutable_transactions(1)->clear_external_id();
  grpc::ClientContext context;
  v1::ImportInvoicesResponse first;
  grpc::Status status = invoices_->ImportInvoices(&context, request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_THAT(first.invoices(), SizeIs(1));
  const v1::Invoice& stored = first.invoices(0);
  ASSERT_THAT(stored.line_items(), SizeIs(3));
  EXPECT_EQ(stored.line_items(0).external_id(), "INV-7#li1");
  EXPECT_EQ(stored.line_items(1).external_id(), "setup");
  EXPECT_EQ(stored.line_items(2).external_id(), "INV-7#li3");
  ASSERT_THAT(stored.transactions(), SizeIs(2));
  EXPECT_EQ(stored.transactions(0).external_id(), "INV-7#tr1");
  EXPECT_EQ(stored.transactions(1).external_id(), "INV-7#tr2");
  EXPECT_EQ(GetInvoiceAt(*invoices_, stored.uuid(), std::nullopt).DebugString(),
            stored.DebugString());

  // Re-sending the identical invoice stores nothing new.
  grpc::ClientContext again;
  v1::ImportInvoicesResponse second;
  status = invoices_->ImportInvoices(&again, request, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(second.DebugString(), first.DebugString());
  ASSERT_THAT(ListInvoices(customer_), SizeIs(1));
  EXPECT_THAT(ListInvoices(customer_)[0].transactions(), SizeIs(2));

  // The same invoice with its line items in another order is another
  // content under the same ids: refused as before.
  std::swap(*request.mutable_invoices(0)->mutable_line_items(0),
            *request.mutable_invoices(0)->mutable_line_items(2));
  grpc::ClientContext swapped;
  v1::ImportInvoicesResponse ignored;
  EXPECT_EQ(invoices_->ImportInvoices(&swapped, request, &ignored).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(InvoiceServiceTest, ExplicitIdEqualToADerivedOneIsRefused) {
  struct Case {
    std::string field;
    std::function<void(v1::Invoice&)> mutate;
  };
  const std::vector<Case> cases = {
      {"invoices[0].line_items[0].external_id",
       [](v1::Invoice& i) {
         *i.add_line_items() = i.line_items(0);
         i.mutable_line_items(1)->clear_external_id();
         i.mutable_line_items(1)->set_subscription_external_id("sub-2");
         i.mutable_line_items(0)->set_external_id(i.external_id() + "#li2");
       }},
      {"invoices[0].line_items[1].external_id",
       [](v1::Invoice& i) {
         *i.add_line_items() = i.line_items(0);
         i.mutable_line_items(0)->clear_external_id();
         i.mutable_line_items(1)->set_subscription_external_id("sub-2");
         i.mutable_line_items(1)->set_external_id(i.external_id() + "#li1");
       }},
      {"invoices[0].transactions[1].external_id",
       [](v1::Invoice& i) {
         *i.add_transactions() = i.transactions(0);
         i.mutable_transactions(0)->clear_external_id();
         i.mutable_transactions(1)->set_external_id(i.external_id() + "#tr1");
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    const grpc::Status status = ImportOneMonthMutated(c.mutate);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
    EXPECT_THAT(status.error_message(), HasSubstr("derived"));
  }
  EXPECT_THAT(ListInvoices(customer_), IsEmpty());
  // An explicit id equal to its own derived one is no collision.
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer_);
  v1::Invoice* invoice = request.add_invoices();
  *invoice = MakeInvoice(Monthly("sub-1", T("2025-01-01"), 1)[0]);
  invoice->mutable_line_items(0)->set_external_id(invoice->external_id() +
                                                  "#li1");
  grpc::ClientContext context;
  v1::ImportInvoicesResponse response;
  EXPECT_TRUE(invoices_->ImportInvoices(&context, request, &response).ok());
}

TEST_F(InvoiceServiceTest, AddTransactionWithoutExternalIdIsRefused) {
  v1::ImportInvoicesResponse imported;
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 1);
  specs[0].payments.clear();
  ASSERT_TRUE(Import(customer_, specs, &imported).ok());
  grpc::ClientContext context;
  v1::AddTransactionRequest request;
  request.set_invoice_uuid(imported.invoices(0).uuid());
  v1::Transaction* tx = request.mutable_transaction();
  tx->set_type(v1::TRANSACTION_TYPE_PAYMENT);
  tx->set_result(v1::TRANSACTION_RESULT_SUCCESSFUL);
  *tx->mutable_date() = TimeToProto(T("2025-01-02"));
  v1::Transaction out;
  const grpc::Status status =
      invoices_->AddTransaction(&context, request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("transaction.external_id"));
  EXPECT_THAT(ListInvoices(customer_).at(0).transactions(), IsEmpty());
  EXPECT_TRUE(
      GetInvoiceAt(*invoices_, imported.invoices(0).uuid(), T("2025-03-01"))
          .open());
}

TEST_F(InvoiceServiceTest, CancelSubscriptionErrors) {
  MustImport(customer_, Monthly("sub-1", T("2025-01-01"), 2));
  server_.clock().Set(T("2025-01-20"));
  const std::string sub = Subscription(customer_, T("2025-01-10")).uuid();
  EXPECT_EQ(Cancel(sub, T("2025-01-21")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // in the future
  EXPECT_EQ(Cancel("sub_missingmissingmissin", T("2025-01-10")).error_code(),
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
