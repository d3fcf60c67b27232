// Store tests (every backend): importing and reading invoices, transactions and
// subscriptions (issue 4).
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

InvoiceFilter ByCustomer(const std::string& uuid) {
  InvoiceFilter filter;
  filter.customer_uuid = uuid;
  return filter;
}

// An invoice with every field set, two line items and two transactions
// given out of date order.
Invoice FullInvoice() {
  Invoice invoice;
  invoice.external_id = "INV-1";
  invoice.date = Day(2025, 1, 1) + absl::Seconds(7);
  invoice.due_date = Day(2025, 1, 15);
  invoice.currency = "EUR";
  LineItem item =
      SubscriptionItem("LI-1", "SUB-1", Day(2025, 1, 1), Day(2025, 2, 1), 4900);
  item.quantity = 3;
  item.discount_amount_in_cents = 100;
  item.tax_amount_in_cents = 931;
  item.prorated = true;
  item.description = "Pro plan, 3 seats";
  invoice.line_items.push_back(item);
  LineItem setup;
  setup.external_id = "LI-2";
  setup.type = engine::LineItemType::kOneTime;
  setup.amount_in_cents = 1000;
  setup.quantity = 1;
  setup.description = "Setup fee";
  invoice.line_items.push_back(setup);
  Transaction failed = Payment("TR-2", Day(2025, 1, 20), 5900);
  failed.result = engine::TransactionResult::kFailed;
  invoice.transactions.push_back(failed);
  invoice.transactions.push_back(Payment("TR-1", Day(2025, 1, 10)));
  return invoice;
}

TEST_P(StoreTest, ImportedInvoiceRoundTripsEveryField) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  const Invoice wanted = FullInvoice();
  ASSERT_OK_AND_ASSIGN(std::vector<Invoice> stored,
                       store_->ImportInvoices(customer.uuid, {wanted}, Tick()));
  ASSERT_THAT(stored, SizeIs(1));
  const Invoice& got = stored[0];
  EXPECT_TRUE(common::HasIdShape(got.uuid, common::kInvoiceIdPrefix))
      << got.uuid;
  EXPECT_EQ(got.customer_uuid, customer.uuid);
  EXPECT_EQ(got.data_source_uuid, source.uuid);  // defaulted
  EXPECT_EQ(got.external_id, "INV-1");
  EXPECT_EQ(got.date, wanted.date);
  EXPECT_EQ(got.due_date, wanted.due_date);
  EXPECT_EQ(got.currency, "EUR");
  ASSERT_THAT(got.line_items, SizeIs(2));
  const LineItem& item = got.line_items[0];
  EXPECT_TRUE(common::HasIdShape(item.uuid, common::kLineItemIdPrefix))
      << item.uuid;
  EXPECT_EQ(item.external_id, "LI-1");
  EXPECT_EQ(item.type, engine::LineItemType::kSubscription);
  EXPECT_EQ(item.subscription_external_id, "SUB-1");
  EXPECT_EQ(item.plan_external_id, "plan-monthly");
  EXPECT_EQ(item.service_period_start, Day(2025, 1, 1));
  EXPECT_EQ(item.service_period_end, Day(2025, 2, 1));
  EXPECT_EQ(item.amount_in_cents, 4900);
  EXPECT_EQ(item.quantity, 3);
  EXPECT_EQ(item.discount_amount_in_cents, 100);
  EXPECT_EQ(item.tax_amount_in_cents, 931);
  EXPECT_TRUE(item.prorated);
  EXPECT_EQ(item.description, "Pro plan, 3 seats");
  EXPECT_EQ(got.line_items[1].external_id, "LI-2");
  EXPECT_EQ(got.line_items[1].type, engine::LineItemType::kOneTime);
  EXPECT_FALSE(got.line_items[1].prorated);
  // Transactions come in date order.
  ASSERT_THAT(got.transactions, SizeIs(2));
  const Transaction& paid = got.transactions[0];
  EXPECT_TRUE(common::HasIdShape(paid.uuid, common::kTransactionIdPrefix))
      << paid.uuid;
  EXPECT_EQ(paid.external_id, "TR-1");
  EXPECT_EQ(paid.type, engine::TransactionType::kPayment);
  EXPECT_EQ(paid.result, engine::TransactionResult::kSuccessful);
  EXPECT_EQ(paid.date, Day(2025, 1, 10));
  EXPECT_EQ(paid.amount_in_cents, std::nullopt);
  const Transaction& failed = got.transactions[1];
  EXPECT_EQ(failed.external_id, "TR-2");
  EXPECT_EQ(failed.result, engine::TransactionResult::kFailed);
  EXPECT_EQ(failed.amount_in_cents, 5900);

  ASSERT_OK_AND_ASSIGN(Invoice read, store_->GetInvoice(got.uuid));
  EXPECT_EQ(Dump(read), Dump(got));
  EXPECT_THAT(Dump(ListAllInvoices(ByCustomer(customer.uuid))),
              ElementsAre(Dump(got)));
  Reopen();
  ASSERT_OK_AND_ASSIGN(Invoice durable, store_->GetInvoice(got.uuid));
  EXPECT_EQ(Dump(durable), Dump(got));
}

TEST_P(StoreTest, GetInvoiceOfAnUnknownUuidIsNotFound) {
  EXPECT_THAT(store_->GetInvoice("inv_nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("inv_nope")));
  EXPECT_THAT(store_->DeleteInvoice("inv_nope", Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->AddTransaction("inv_nope", Payment("T", Tick()), Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ImportInvoices("cus_nope", {FullInvoice()}, Tick()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_nope")));
}

TEST_P(StoreTest, ReimportingAnIdenticalInvoiceIsANoOp) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  Invoice invoice = FullInvoice();
  invoice.transactions.push_back(Payment("TR-5", Day(2025, 1, 25), 1));
  invoice.transactions.push_back(Payment("TR-4", Day(2025, 1, 25), 2));
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> first,
      store_->ImportInvoices(customer.uuid, {invoice}, Tick()));
  // The same invoice with its transactions in another order (same-day ones
  // included) and its source named.
  Invoice again = invoice;
  std::swap(again.transactions[0], again.transactions[1]);
  std::swap(again.transactions[2], again.transactions[3]);
  again.data_source_uuid = source.uuid;
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> second,
      store_->ImportInvoices(customer.uuid, {again, again}, Tick()));
  EXPECT_THAT(Dump(second), ElementsAre(Dump(first[0]), Dump(first[0])));
  EXPECT_THAT(ListAllInvoices(ByCustomer(customer.uuid)), SizeIs(1));
}

TEST_P(StoreTest, ConflictingReimportStoresNothingOfTheBatch) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  ASSERT_OK(store_->ImportInvoices(customer.uuid, {FullInvoice()}, Tick()));
  const std::vector<std::string> before =
      Dump(ListAllInvoices(ByCustomer(customer.uuid)));
  const std::vector<SubscriptionRef> subscriptions_before = [&] {
    absl::StatusOr<CustomerSnapshot> snapshot = Snapshot(customer.uuid);
    return snapshot.ok() ? snapshot->subscriptions
                         : std::vector<SubscriptionRef>{};
  }();

  Invoice fresh = MonthlyInvoice("INV-2", "SUB-2", Day(2025, 2, 1),
                                 Day(2025, 3, 1), Day(2025, 2, 15));
  Invoice changed = FullInvoice();
  changed.line_items[0].amount_in_cents += 1;
  EXPECT_THAT(
      store_->ImportInvoices(customer.uuid, {fresh, changed}, Tick()),
      StatusIs(absl::StatusCode::kAlreadyExists,
               AllOf(HasSubstr("invoice 'INV-1'"), HasSubstr(source.uuid))));
  // Each field counts.
  Invoice other_due = FullInvoice();
  other_due.due_date = std::nullopt;
  EXPECT_THAT(store_->ImportInvoices(customer.uuid, {other_due}, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));
  Invoice fewer_payments = FullInvoice();
  fewer_payments.transactions.pop_back();
  EXPECT_THAT(store_->ImportInvoices(customer.uuid, {fewer_payments}, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));

  EXPECT_EQ(Dump(ListAllInvoices(ByCustomer(customer.uuid))), before);
  InvoiceFilter by_id;
  by_id.external_id = "INV-2";
  EXPECT_THAT(ListAllInvoices(by_id), IsEmpty());
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(customer.uuid));
  EXPECT_EQ(snapshot.subscriptions.size(), subscriptions_before.size());
}

TEST_P(StoreTest, LineItemAndTransactionIdsAreUniquePerSource) {
  const DataSource source = NewSource("s");
  const DataSource other_source = NewSource("t");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  const Customer other = NewCustomer(other_source.uuid, "c-1");
  ASSERT_OK(store_->ImportInvoices(customer.uuid, {FullInvoice()}, Tick()));

  Invoice reused_item = MonthlyInvoice("INV-2", "SUB-1", Day(2025, 2, 1),
                                       Day(2025, 3, 1), Day(2025, 2, 15));
  reused_item.line_items[0].external_id = "LI-2";
  EXPECT_THAT(
      store_->ImportInvoices(customer.uuid, {reused_item}, Tick()),
      StatusIs(absl::StatusCode::kAlreadyExists,
               AllOf(HasSubstr("line item 'LI-2'"), HasSubstr(source.uuid))));
  Invoice reused_payment = MonthlyInvoice("INV-2", "SUB-1", Day(2025, 2, 1),
                                          Day(2025, 3, 1), Day(2025, 2, 15));
  reused_payment.transactions.push_back(Payment("TR-1", Day(2025, 2, 2)));
  EXPECT_THAT(store_->ImportInvoices(customer.uuid, {reused_payment}, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("transaction 'TR-1'")));
  // Twice in one batch.
  Invoice a = MonthlyInvoice("INV-A", "SUB-1", Day(2025, 2, 1), Day(2025, 3, 1),
                             std::nullopt);
  Invoice b = MonthlyInvoice("INV-B", "SUB-1", Day(2025, 3, 1), Day(2025, 4, 1),
                             std::nullopt);
  b.line_items[0].external_id = a.line_items[0].external_id;
  EXPECT_THAT(store_->ImportInvoices(customer.uuid, {a, b}, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("line item 'INV-A-li'")));
  EXPECT_THAT(ListAllInvoices(ByCustomer(customer.uuid)), SizeIs(1));

  // Another source has its own namespace of ids.
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> elsewhere,
      store_->ImportInvoices(other.uuid, {FullInvoice()}, Tick()));
  EXPECT_EQ(elsewhere[0].data_source_uuid, other_source.uuid);
  EXPECT_THAT(ListAllInvoices(InvoiceFilter{}), SizeIs(2));
}

TEST_P(StoreTest, SubscriptionOfAnotherCustomerIsRefused) {
  const DataSource source = NewSource("s");
  const Customer owner = NewCustomer(source.uuid, "c-1");
  const Customer intruder = NewCustomer(source.uuid, "c-2");
  ASSERT_OK(
      store_->ImportInvoices(owner.uuid,
                             {MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                             Day(2025, 2, 1), std::nullopt)},
                             Tick()));
  Invoice ok = MonthlyInvoice("INV-2", "SUB-2", Day(2025, 1, 1),
                              Day(2025, 2, 1), std::nullopt);
  Invoice stolen = MonthlyInvoice("INV-3", "SUB-1", Day(2025, 2, 1),
                                  Day(2025, 3, 1), std::nullopt);
  EXPECT_THAT(store_->ImportInvoices(intruder.uuid, {ok, stolen}, Tick()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("'SUB-1'"), HasSubstr(owner.uuid))));
  EXPECT_THAT(ListAllInvoices(ByCustomer(intruder.uuid)), IsEmpty());
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot snapshot, Snapshot(intruder.uuid));
  EXPECT_THAT(snapshot.subscriptions, IsEmpty());
  // A ONE_TIME line item naming it creates and claims nothing.
  Invoice one_time = ok;
  one_time.line_items[0].type = engine::LineItemType::kOneTime;
  one_time.line_items[0].subscription_external_id = "SUB-1";
  EXPECT_OK(store_->ImportInvoices(intruder.uuid, {one_time}, Tick()));
}

TEST_P(StoreTest, MergedCustomerInvoicesNameTheirSource) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const DataSource unrelated = NewSource("u");
  const Customer into = NewCustomer(a.uuid, "a-1");
  const Customer from = NewCustomer(b.uuid, "b-1");
  ASSERT_OK(store_->MergeCustomers(from.uuid, into.uuid, Tick()));

  const Invoice invoice = MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                                         Day(2025, 2, 1), std::nullopt);
  Invoice ok = invoice;
  ok.external_id = "INV-0";
  ok.line_items[0].external_id = "LI-0";
  ok.data_source_uuid = a.uuid;
  EXPECT_THAT(store_->ImportInvoices(into.uuid, {ok, invoice}, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invoices[1].data_source_uuid")));
  Invoice elsewhere = invoice;
  elsewhere.data_source_uuid = unrelated.uuid;
  EXPECT_THAT(store_->ImportInvoices(into.uuid, {elsewhere}, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("invoices[0].data_source_uuid"),
                             HasSubstr(unrelated.uuid))));
  Invoice missing = invoice;
  missing.data_source_uuid = "ds_nope";
  EXPECT_THAT(store_->ImportInvoices(into.uuid, {missing}, Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invoices[0].data_source_uuid")));
  EXPECT_THAT(ListAllInvoices(ByCustomer(into.uuid)), IsEmpty());

  Invoice in_b = invoice;
  in_b.data_source_uuid = b.uuid;
  ASSERT_OK_AND_ASSIGN(std::vector<Invoice> stored,
                       store_->ImportInvoices(into.uuid, {ok, in_b}, Tick()));
  EXPECT_EQ(stored[0].data_source_uuid, a.uuid);
  EXPECT_EQ(stored[1].data_source_uuid, b.uuid);
  EXPECT_EQ(stored[1].customer_uuid, into.uuid);
}

TEST_P(StoreTest, ListInvoicesFiltersAndPages) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer c1 = NewCustomer(a.uuid, "c-1");
  const Customer c2 = NewCustomer(a.uuid, "c-2");
  const Customer c3 = NewCustomer(b.uuid, "c-3");
  std::vector<std::string> all;
  for (int i = 0; i < 7; ++i) {
    const Customer& owner = i % 3 == 0 ? c1 : i % 3 == 1 ? c2 : c3;
    const std::string id = absl::StrCat("INV-", i);
    ASSERT_OK_AND_ASSIGN(
        std::vector<Invoice> stored,
        store_->ImportInvoices(
            owner.uuid,
            {MonthlyInvoice(id, absl::StrCat("SUB-", i), Day(2025, 1, 1),
                            Day(2025, 2, 1), std::nullopt)},
            Tick()));
    all.push_back(stored[0].uuid);
  }
  auto uuids = [&](const InvoiceFilter& filter, int page_size) {
    std::vector<std::string> out;
    for (const Invoice& invoice : ListAllInvoices(filter, page_size)) {
      EXPECT_THAT(invoice.line_items, SizeIs(1)) << invoice.external_id;
      out.push_back(invoice.uuid);
    }
    return out;
  };
  EXPECT_EQ(uuids({}, 2), all);
  EXPECT_EQ(uuids({}, 1000), all);
  EXPECT_THAT(uuids(ByCustomer(c1.uuid), 1),
              ElementsAre(all[0], all[3], all[6]));
  InvoiceFilter by_source;
  by_source.data_source_uuid = b.uuid;
  EXPECT_THAT(uuids(by_source, 1), ElementsAre(all[2], all[5]));
  InvoiceFilter by_id;
  by_id.external_id = "INV-4";
  EXPECT_THAT(uuids(by_id, 5), ElementsAre(all[4]));
  by_id.data_source_uuid = b.uuid;
  EXPECT_THAT(uuids(by_id, 5), IsEmpty());
  InvoiceFilter combined = ByCustomer(c2.uuid);
  combined.data_source_uuid = a.uuid;
  EXPECT_THAT(uuids(combined, 1), ElementsAre(all[1], all[4]));
  // An unknown customer or source is NOT_FOUND, as in the other lists.
  EXPECT_THAT(store_->ListInvoices(ByCustomer("cus_nope"), PageRequest{5, ""}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_nope")));
  InvoiceFilter unknown_source;
  unknown_source.data_source_uuid = "ds_nope";
  EXPECT_THAT(store_->ListInvoices(unknown_source, PageRequest{5, ""}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_nope")));

  // A token only works for its query.
  PageRequest page;
  page.page_size = 1;
  ASSERT_OK_AND_ASSIGN(Page<Invoice> first,
                       store_->ListInvoices(ByCustomer(c1.uuid), page));
  page.page_token = first.next_page_token;
  EXPECT_THAT(store_->ListInvoices(ByCustomer(c2.uuid), page),
              StatusIs(absl::StatusCode::kInvalidArgument));
  page.page_size = 0;
  page.page_token.clear();
  EXPECT_THAT(store_->ListInvoices({}, page),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Twelve invoices of one customer: INV-0, 3, 6, 9 paid in full on Jan 5;
// INV-1, 4, 7, 10 paid in part on Jan 5; INV-2, 5, 8, 11 paid in full on
// Feb 10. Returns their uuids in import order.
std::vector<std::string> ImportPaymentMix(Store& store,
                                          const std::string& customer,
                                          absl::Time now) {
  std::vector<Invoice> invoices;
  for (int i = 0; i < 12; ++i) {
    const std::string id = absl::StrCat("INV-", i);
    Invoice invoice =
        MonthlyInvoice(id, absl::StrCat("SUB-", i), Day(2025, 1, 1),
                       Day(2025, 2, 1), Day(2025, 1, 1));
    switch (i % 3) {
      case 0:
        invoice.transactions.push_back(Payment(id + "-tr", Day(2025, 1, 5)));
        break;
      case 1:
        invoice.transactions.push_back(
            Payment(id + "-tr", Day(2025, 1, 5), 1000));
        break;
      default:
        invoice.transactions.push_back(Payment(id + "-tr", Day(2025, 2, 10)));
    }
    invoices.push_back(std::move(invoice));
  }
  absl::StatusOr<std::vector<Invoice>> stored =
      store.ImportInvoices(customer, invoices, now);
  EXPECT_OK(stored);
  std::vector<std::string> uuids;
  if (stored.ok()) {
    for (const Invoice& invoice : *stored) uuids.push_back(invoice.uuid);
  }
  return uuids;
}

TEST_P(StoreTest, ListInvoicesOpenFilterShowsEveryMatchOnceAcrossPages) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  const std::vector<std::string> all =
      ImportPaymentMix(*store_, customer.uuid, Tick());
  ASSERT_THAT(all, SizeIs(12));
  // The uuids of invoices i with keep(i), in import order.
  auto expected = [&](auto keep) {
    std::vector<std::string> out;
    for (int i = 0; i < 12; ++i) {
      if (keep(i)) out.push_back(all[i]);
    }
    return out;
  };
  struct Case {
    absl::Time as_of;
    bool open;
    std::vector<std::string> uuids;
  };
  const std::vector<Case> cases = {
      {Day(2025, 1, 1), true, all},
      {Day(2025, 1, 1), false, {}},
      {Day(2025, 1, 20), true, expected([](int i) { return i % 3 != 0; })},
      {Day(2025, 1, 20), false, expected([](int i) { return i % 3 == 0; })},
      {Day(2025, 3, 1), true, expected([](int i) { return i % 3 == 1; })},
      {Day(2025, 3, 1), false, expected([](int i) { return i % 3 != 1; })},
  };
  for (const Case& c : cases) {
    for (const int page_size : {1, 2, 3, 5, 1000}) {
      SCOPED_TRACE(absl::StrCat(absl::FormatTime(c.as_of), " open=", c.open,
                                " page_size=", page_size));
      std::vector<std::string> uuids;
      for (const Invoice& invoice : ListAllInvoices(
               ByCustomer(customer.uuid), page_size, OpenAt{c.open, c.as_of})) {
        uuids.push_back(invoice.uuid);
      }
      EXPECT_EQ(uuids, c.uuids);
    }
  }

  // A page is full while matches remain, and its token continues right
  // after its last invoice: open at Jan 20 are INV-1, 2, 4, 5, ...
  PageRequest page;
  page.page_size = 3;
  const OpenAt open_jan20{true, Day(2025, 1, 20)};
  ASSERT_OK_AND_ASSIGN(Page<Invoice> first,
                       store_->ListInvoices({}, page, open_jan20));
  ASSERT_THAT(first.items, SizeIs(3));
  EXPECT_EQ(first.items[2].uuid, all[4]);
  page.page_token = first.next_page_token;
  ASSERT_OK_AND_ASSIGN(Page<Invoice> second,
                       store_->ListInvoices({}, page, open_jan20));
  ASSERT_THAT(second.items, SizeIs(3));
  EXPECT_EQ(second.items[0].uuid, all[5]);
  // The same token with another filter still fails.
  EXPECT_THAT(store_->ListInvoices(ByCustomer(customer.uuid), page, open_jan20),
              StatusIs(absl::StatusCode::kInvalidArgument));
  page.page_size = 0;
  page.page_token.clear();
  EXPECT_THAT(store_->ListInvoices({}, page, open_jan20),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(StoreTest, ListInvoicesOpenFilterBoundsTheScanOfOnePage) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  const std::vector<std::string> all =
      ImportPaymentMix(*store_, customer.uuid, Tick());
  Store::Options options;
  options.max_invoices_scanned_per_page = 2;
  Store store(backend_.get(), options, nullptr);
  // Open on Mar 1: INV-1, 4, 7, 10. Each call reads two stored invoices, so
  // some pages are empty but carry a token; none is lost or repeated.
  const OpenAt open_mar1{true, Day(2025, 3, 1)};
  PageRequest page;
  page.page_size = 1;
  std::vector<std::string> uuids;
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(Page<Invoice> result,
                         store.ListInvoices({}, page, open_mar1));
    ASSERT_LE(result.items.size(), 1u);
    for (const Invoice& invoice : result.items) uuids.push_back(invoice.uuid);
    page.page_token = result.next_page_token;
    ASSERT_LT(++pages, 20);
  } while (!page.page_token.empty());
  EXPECT_THAT(uuids, ElementsAre(all[1], all[4], all[7], all[10]));
  EXPECT_GT(pages, 4);
}

TEST_P(StoreTest, AddTransactionIsIdempotentPerExternalId) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> stored,
      store_->ImportInvoices(customer.uuid, {FullInvoice()}, Tick()));
  const std::string invoice = stored[0].uuid;
  const Transaction refund = [] {
    Transaction t = Payment("TR-3", Day(2025, 1, 12), 500);
    t.type = engine::TransactionType::kRefund;
    return t;
  }();
  ASSERT_OK_AND_ASSIGN(Transaction added,
                       store_->AddTransaction(invoice, refund, Tick()));
  EXPECT_TRUE(common::HasIdShape(added.uuid, common::kTransactionIdPrefix));
  EXPECT_EQ(added.external_id, "TR-3");
  EXPECT_EQ(added.type, engine::TransactionType::kRefund);
  EXPECT_EQ(added.amount_in_cents, 500);
  ASSERT_OK_AND_ASSIGN(Transaction again,
                       store_->AddTransaction(invoice, refund, Tick()));
  EXPECT_EQ(again.uuid, added.uuid);
  Transaction different = refund;
  different.amount_in_cents = 600;
  EXPECT_THAT(store_->AddTransaction(invoice, different, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("transaction 'TR-3'")));
  // An id imported with the invoice is taken too.
  EXPECT_THAT(store_->AddTransaction(invoice, Payment("TR-1", Day(2025, 1, 11)),
                                     Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(Invoice read, store_->GetInvoice(invoice));
  ASSERT_THAT(read.transactions, SizeIs(3));
  // In date order: TR-1 (Jan 10), TR-3 (Jan 12), TR-2 (Jan 20).
  EXPECT_EQ(read.transactions[1].uuid, added.uuid);
}

TEST_P(StoreTest, DeleteInvoiceDeletesSubscriptionsLeftEmpty) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c-1");
  Invoice jan = MonthlyInvoice("INV-1", "SUB-1", Day(2025, 1, 1),
                               Day(2025, 2, 1), std::nullopt);
  jan.line_items.push_back(
      SubscriptionItem("LI-X", "SUB-2", Day(2025, 1, 1), Day(2025, 2, 1)));
  const Invoice feb = MonthlyInvoice("INV-2", "SUB-1", Day(2025, 2, 1),
                                     Day(2025, 3, 1), std::nullopt);
  ASSERT_OK_AND_ASSIGN(
      std::vector<Invoice> stored,
      store_->ImportInvoices(customer.uuid, {jan, feb}, Day(2025, 1, 5)));
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot before, Snapshot(customer.uuid));
  ASSERT_THAT(before.subscriptions, SizeIs(2));

  ASSERT_OK(store_->DeleteInvoice(stored[0].uuid, Day(2025, 1, 6)));
  EXPECT_THAT(store_->GetInvoice(stored[0].uuid),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(CustomerSnapshot after, Snapshot(customer.uuid));
  ASSERT_THAT(after.subscriptions, SizeIs(1));
  EXPECT_EQ(after.subscriptions[0].external_id, "SUB-1");
  EXPECT_THAT(after.facts.invoices, SizeIs(1));
  for (const SubscriptionRef& ref : before.subscriptions) {
    if (ref.external_id == "SUB-2") {
      EXPECT_THAT(store_->GetSubscription(ref.uuid),
                  StatusIs(absl::StatusCode::kNotFound));
    }
  }
  // SUB-1 now starts on Feb 1: the customer is a lead again on Jan 6.
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(customer.uuid));
  EXPECT_EQ(got.status, CustomerStatus::kLead);
  EXPECT_THAT(store_->DeleteInvoice(stored[0].uuid, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace recurrent::core::testing
