// MRR on the reads and writes of issue 17: Subscription.mrr_in_cents and
// currency, Customer.mrr (GetCustomer with and without as_of, the cache,
// writes, ListCustomers with as_of), tax and proration reaching the engine
// from storage, and SettingsImpact.mrr_change / churned_mrr (dry run,
// applied, history). Runs on the backend RECURRENT_TEST_BACKEND names (ctest
// runs both).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"

namespace recurrent::service::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// "EUR 4900" per amount, for readable expectations.
std::vector<std::string> Amounts(
    const google::protobuf::RepeatedPtrField<v1::MrrAmount>& amounts) {
  std::vector<std::string> out;
  for (const v1::MrrAmount& amount : amounts) {
    out.push_back(absl::StrCat(amount.currency(), " ", amount.mrr_in_cents()));
  }
  return out;
}

// One line item of a raw invoice.
struct Line {
  std::string subscription;
  absl::Time start;
  absl::Time end;
  int64_t amount = 0;
  int64_t tax = 0;
  bool prorated = false;
};

class MrrReadsTest : public ApiTest {
 protected:
  // An invoice of `lines` in `currency`, dated and due at the first line's
  // start, paid in full then unless `paid` is false.
  static v1::Invoice Invoice(const std::string& external_id,
                             const std::string& currency,
                             const std::vector<Line>& lines, bool paid = true,
                             const std::string& data_source_uuid = "") {
    v1::Invoice invoice;
    invoice.set_external_id(external_id);
    invoice.set_data_source_uuid(data_source_uuid);
    invoice.set_currency(currency);
    *invoice.mutable_date() = TimeToProto(lines.front().start);
    *invoice.mutable_due_date() = TimeToProto(lines.front().start);
    int n = 0;
    for (const Line& line : lines) {
      v1::LineItem* item = invoice.add_line_items();
      item->set_external_id(absl::StrCat(external_id, "-li", n++));
      item->set_type(v1::LINE_ITEM_TYPE_SUBSCRIPTION);
      item->set_subscription_external_id(line.subscription);
      *item->mutable_service_period_start() = TimeToProto(line.start);
      *item->mutable_service_period_end() = TimeToProto(line.end);
      item->set_amount_in_cents(line.amount);
      item->set_tax_amount_in_cents(line.tax);
      item->set_prorated(line.prorated);
      item->set_quantity(1);
    }
    if (paid) {
      v1::Transaction* tx = invoice.add_transactions();
      tx->set_external_id(external_id + "-tx");
      tx->set_type(v1::TRANSACTION_TYPE_PAYMENT);
      tx->set_result(v1::TRANSACTION_RESULT_SUCCESSFUL);
      *tx->mutable_date() = TimeToProto(lines.front().start);
    }
    return invoice;
  }

  void MustImportRaw(const std::string& customer,
                     const std::vector<v1::Invoice>& invoices) {
    grpc::ClientContext context;
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer);
    for (const v1::Invoice& invoice : invoices) {
      *request.add_invoices() = invoice;
    }
    v1::ImportInvoicesResponse response;
    const grpc::Status status =
        invoices_->ImportInvoices(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Monthly invoices of `amount` (tax `tax`) in `currency` for `months`
  // months from `first`; those listed in `unpaid` (0-based) are not paid.
  static std::vector<v1::Invoice> MonthlyIn(
      const std::string& subscription, const std::string& currency,
      absl::Time first, int months, int64_t amount, int64_t tax = 0,
      std::vector<int> unpaid = {}, const std::string& source = "") {
    std::vector<v1::Invoice> out;
    const absl::CivilMonth start =
        absl::CivilMonth(absl::ToCivilDay(first, absl::UTCTimeZone()));
    for (int i = 0; i < months; ++i) {
      const absl::Time from =
          absl::FromCivil(absl::CivilDay(start + i), absl::UTCTimeZone());
      const absl::Time to =
          absl::FromCivil(absl::CivilDay(start + i + 1), absl::UTCTimeZone());
      const bool paid =
          std::find(unpaid.begin(), unpaid.end(), i) == unpaid.end();
      out.push_back(Invoice(absl::StrCat(subscription, "-", i), currency,
                            {{subscription, from, to, amount, tax}}, paid,
                            source));
    }
    return out;
  }

  std::vector<v1::Customer> ListAt(absl::Time as_of) {
    grpc::ClientContext context;
    v1::ListCustomersRequest request;
    request.set_page_size(100);
    *request.mutable_as_of() = TimeToProto(as_of);
    v1::ListCustomersResponse response;
    const grpc::Status status =
        customers_->ListCustomers(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.customers().begin(), response.customers().end()};
  }

  v1::Subscription Named(const std::string& customer,
                         const std::string& external_id, absl::Time as_of) {
    for (const v1::Subscription& s : Subscriptions(customer, as_of)) {
      if (s.external_id() == external_id) return s;
    }
    ADD_FAILURE() << "no subscription " << external_id;
    return v1::Subscription();
  }

  v1::UpdateSettingsResponse MustUpdate(const std::string& source, int days,
                                        bool dry_run) {
    grpc::ClientContext context;
    v1::UpdateSettingsRequest request;
    request.set_data_source_uuid(source);
    request.mutable_past_due_handling()->set_mode(
        days == 0 ? v1::PAST_DUE_MODE_KEEP : v1::PAST_DUE_MODE_AUTO_CHURN);
    request.mutable_past_due_handling()->set_auto_churn_after_days(days);
    request.set_dry_run(dry_run);
    v1::UpdateSettingsResponse response;
    const grpc::Status status =
        settings_->UpdateSettings(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.applied(), !dry_run);
    return response;
  }
};

// M2 through ListSubscriptions and CancelSubscription: ACTIVE at the line's
// rate, PAST_DUE on an unpaid covered period at that period's rate, PAST_DUE
// after a missing renewal holding the last covered rate, CANCELLED at 0.
TEST_F(MrrReadsTest, SubscriptionMrrAndCurrencyAtSeveralInstants) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  server_.clock().Set(T("2025-03-15"));
  // January 4,900 paid; February 5,900 unpaid (due Feb 1); no March.
  MustImportRaw(customer,
                {Invoice("jan", "USD",
                         {{"sub-1", T("2025-01-01"), T("2025-02-01"), 4900}}),
                 Invoice("feb", "USD",
                         {{"sub-1", T("2025-02-01"), T("2025-03-01"), 5900}},
                         /*paid=*/false)});
  EXPECT_THAT(Subscriptions(customer, T("2024-12-15")), IsEmpty());

  v1::Subscription s = Named(customer, "sub-1", T("2025-01-15"));
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_EQ(s.mrr_in_cents(), 4900);
  EXPECT_EQ(s.currency(), "USD");

  s = Named(customer, "sub-1", T("2025-02-15"));
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(s.mrr_in_cents(), 5900);

  s = Named(customer, "sub-1", T("2025-03-10"));  // no line covers it
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_FALSE(s.has_current_period_start());
  EXPECT_EQ(s.mrr_in_cents(), 5900);
  EXPECT_EQ(s.currency(), "USD");
  EXPECT_THAT(Amounts(GetCustomer(customer).mrr()), ElementsAre("USD 5900"));

  v1::Subscription cancelled;
  ASSERT_TRUE(Cancel(s.uuid(), T("2025-03-12"), &cancelled).ok());
  EXPECT_EQ(cancelled.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.mrr_in_cents(), 0);
  EXPECT_EQ(cancelled.currency(), "USD");

  s = Named(customer, "sub-1", T("2025-03-10"));  // before the cancellation
  EXPECT_EQ(s.mrr_in_cents(), 5900);
  s = Named(customer, "sub-1", T("2025-03-13"));
  EXPECT_EQ(s.status(), v1::SUBSCRIPTION_STATUS_CANCELLED);
  EXPECT_EQ(s.mrr_in_cents(), 0);
  EXPECT_EQ(s.currency(), "USD");
  // A currency at 0 is left out.
  EXPECT_THAT(GetCustomer(customer).mrr(), IsEmpty());
  EXPECT_THAT(Amounts(GetCustomer(customer, T("2025-01-15")).mrr()),
              ElementsAre("USD 4900"));
}

// M3: Customer.mrr sums every source and currency, sorted by currency, on
// GetCustomer (with and without as_of), the writes that return a Customer
// and ListCustomers with as_of.
TEST_F(MrrReadsTest, CustomerMrrAcrossTwoSourcesAndTwoCurrencies) {
  const std::string stripe = CreateSource("Stripe");
  const std::string chargebee = CreateSource("Chargebee");
  server_.clock().Set(T("2025-03-15"));
  const std::string a = CreateCustomer(stripe, "a");
  const std::string b = CreateCustomer(chargebee, "b");
  std::vector<v1::Invoice> invoices =
      MonthlyIn("sub-a", "EUR", T("2025-01-01"), 3, 4900);
  for (v1::Invoice& invoice :
       MonthlyIn("sub-b", "USD", T("2025-01-01"), 3, 10000)) {
    invoices.push_back(std::move(invoice));
  }
  MustImportRaw(a, invoices);
  // Annual: 120,000 for 12 calendar months is 10,000 a month (M1).
  MustImportRaw(b, {Invoice("annual", "EUR",
                            {{"sub-c", T("2025-01-01"), T("2026-01-01"),
                              120000}})});
  EXPECT_THAT(Amounts(GetCustomer(a).mrr()),
              ElementsAre("EUR 4900", "USD 10000"));
  EXPECT_THAT(Amounts(GetCustomer(b).mrr()), ElementsAre("EUR 10000"));

  {  // MergeCustomers answers with the merged customer's MRR.
    grpc::ClientContext context;
    v1::MergeCustomersRequest request;
    request.set_from_customer_uuid(b);
    request.set_into_customer_uuid(a);
    v1::Customer merged;
    ASSERT_TRUE(customers_->MergeCustomers(&context, request, &merged).ok());
    EXPECT_THAT(Amounts(merged.mrr()), ElementsAre("EUR 14900", "USD 10000"));
  }
  EXPECT_THAT(Amounts(GetCustomer(a).mrr()),
              ElementsAre("EUR 14900", "USD 10000"));
  {  // So does a tag edit (its stored status, its MRR now).
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(a);
    request.add_tags("vip");
    v1::Customer tagged;
    ASSERT_TRUE(customers_->AddCustomerTags(&context, request, &tagged).ok());
    EXPECT_THAT(Amounts(tagged.mrr()), ElementsAre("EUR 14900", "USD 10000"));
  }

  // The USD subscription cancelled on Mar 10: USD is left out from then.
  ASSERT_TRUE(
      Cancel(Named(a, "sub-b", T("2025-03-01")).uuid(), T("2025-03-10")).ok());
  EXPECT_THAT(Amounts(GetCustomer(a).mrr()), ElementsAre("EUR 14900"));
  EXPECT_THAT(Amounts(GetCustomer(a, T("2025-03-05")).mrr()),
              ElementsAre("EUR 14900", "USD 10000"));
  EXPECT_THAT(Amounts(GetCustomer(a, T("2024-12-31")).mrr()), IsEmpty());

  // ListCustomers with as_of evaluates each customer there.
  const std::string c = CreateCustomer(stripe, "c");
  MustImportRaw(c, MonthlyIn("sub-d", "GBP", T("2025-02-01"), 2, 2500));
  std::vector<v1::Customer> listed = ListAt(T("2025-03-05"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].uuid(), a);
  EXPECT_THAT(Amounts(listed[0].mrr()), ElementsAre("EUR 14900", "USD 10000"));
  EXPECT_THAT(Amounts(listed[1].mrr()), ElementsAre("GBP 2500"));
  listed = ListAt(T("2025-01-15"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_THAT(Amounts(listed[0].mrr()), ElementsAre("EUR 14900", "USD 10000"));
  EXPECT_THAT(listed[1].mrr(), IsEmpty());  // c's first period is February
}

// The cache holds an answer only until its MRR changes, even when no status
// transition comes first: here a one-month add-on ends inside the annual
// period that stays current.
TEST_F(MrrReadsTest, CachedReadEqualsAnUncachedOneAcrossAnMrrChange) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  server_.clock().Set(T("2025-01-20"));
  MustImportRaw(
      customer,
      {Invoice("addon", "EUR", {{"sub-1", T("2025-01-01"), T("2025-02-01"),
                                 1000}}),
       Invoice("annual", "EUR", {{"sub-1", T("2025-01-10"), T("2026-01-10"),
                                  120000}})});
  const v1::Customer filled = GetCustomer(customer);
  EXPECT_THAT(Amounts(filled.mrr()), ElementsAre("EUR 11000"));
  const v1::Customer cached = GetCustomer(customer);
  EXPECT_EQ(cached.DebugString(), filled.DebugString());
  std::vector<v1::Customer> uncached = ListAt(T("2025-01-20"));
  ASSERT_EQ(uncached.size(), 1u);
  EXPECT_EQ(cached.DebugString(), uncached[0].DebugString());

  server_.clock().Set(T("2025-02-05"));
  const v1::Customer later = GetCustomer(customer);
  EXPECT_THAT(Amounts(later.mrr()), ElementsAre("EUR 10000"));
  uncached = ListAt(T("2025-02-05"));
  ASSERT_EQ(uncached.size(), 1u);
  EXPECT_EQ(later.DebugString(), uncached[0].DebugString());
  EXPECT_EQ(GetCustomer(customer).DebugString(), later.DebugString());
}

// Stored tax and proration reach the engine (M1): the net of tax, and
// ChartMogul's Bronze -> Gold prorated upgrade.
TEST_F(MrrReadsTest, TaxAndProrationReachTheEngine) {
  const std::string source = CreateSource("Stripe");
  server_.clock().Set(T("2025-06-20"));
  const std::string taxed = CreateCustomer(source, "taxed");
  MustImportRaw(taxed, {Invoice("t1", "EUR",
                                {{"sub-t", T("2025-06-01"), T("2025-07-01"),
                                  11900, /*tax=*/1900}})});
  EXPECT_EQ(Named(taxed, "sub-t", T("2025-06-20")).mrr_in_cents(), 10000);
  EXPECT_THAT(Amounts(GetCustomer(taxed).mrr()), ElementsAre("EUR 10000"));

  const std::string upgraded = CreateCustomer(source, "upgraded");
  MustImportRaw(
      upgraded,
      {Invoice("bronze", "USD",
               {{"sub-g", T("2025-06-01"), T("2025-07-01"), 10000}}),
       Invoice("gold", "USD",
               {{"sub-g", T("2025-06-16"), T("2025-07-01"), 12500, 0, true},
                {"sub-g", T("2025-06-16"), T("2025-07-01"), -5000, 0,
                 true}})});
  EXPECT_EQ(Named(upgraded, "sub-g", T("2025-06-10")).mrr_in_cents(), 10000);
  EXPECT_EQ(Named(upgraded, "sub-g", T("2025-06-20")).mrr_in_cents(), 25000);
  EXPECT_THAT(Amounts(GetCustomer(upgraded).mrr()), ElementsAre("USD 25000"));
  std::vector<v1::Customer> listed = ListAt(T("2025-06-16"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_THAT(Amounts(listed[1].mrr()), ElementsAre("USD 25000"));
}

// SettingsImpact's MRR: three past-due subscriptions after a missing
// renewal (two EUR, one of them taxed, one USD) and one paid up. AUTO_CHURN
// after 30 days churns the three on Mar 3, before now.
TEST_F(MrrReadsTest, SettingsImpactMrrChangeAndChurnedMrr) {
  const std::string source = CreateSource("Stripe");
  server_.clock().Set(T("2025-03-15"));
  const std::string e1 = CreateCustomer(source, "e1");
  const std::string e2 = CreateCustomer(source, "e2");
  const std::string u1 = CreateCustomer(source, "u1");
  const std::string p1 = CreateCustomer(source, "p1");
  // 5,900 with 1,000 tax: 4,900 net (read back through the source scan).
  MustImportRaw(e1, MonthlyIn("sub-e1", "EUR", T("2025-01-01"), 2, 5900, 1000,
                              {1}));
  MustImportRaw(e2, MonthlyIn("sub-e2", "EUR", T("2025-01-01"), 2, 2900, 0,
                              {1}));
  MustImportRaw(u1, MonthlyIn("sub-u1", "USD", T("2025-01-01"), 2, 10000, 0,
                              {1}));
  MustImportRaw(p1, MonthlyIn("sub-p1", "EUR", T("2025-01-01"), 3, 9900));
  ASSERT_THAT(Amounts(GetCustomer(e1).mrr()), ElementsAre("EUR 4900"));

  // Feb 1 + 60 days is after now: nothing changes.
  v1::UpdateSettingsResponse response = MustUpdate(source, 60, true);
  EXPECT_THAT(response.impact().mrr_change(), IsEmpty());
  EXPECT_THAT(response.impact().churned_mrr(), IsEmpty());

  response = MustUpdate(source, 30, /*dry_run=*/true);
  EXPECT_EQ(response.impact().auto_churns_applied(), 3);
  EXPECT_THAT(Amounts(response.impact().mrr_change()),
              ElementsAre("EUR -7800", "USD -10000"));
  EXPECT_THAT(Amounts(response.impact().churned_mrr()),
              ElementsAre("EUR 7800", "USD 10000"));
  EXPECT_THAT(Amounts(GetCustomer(e1).mrr()), ElementsAre("EUR 4900"));

  response = MustUpdate(source, 30, /*dry_run=*/false);
  EXPECT_THAT(Amounts(response.impact().mrr_change()),
              ElementsAre("EUR -7800", "USD -10000"));
  EXPECT_THAT(Amounts(response.impact().churned_mrr()),
              ElementsAre("EUR 7800", "USD 10000"));
  EXPECT_THAT(GetCustomer(e1).mrr(), IsEmpty());
  EXPECT_THAT(Amounts(GetCustomer(p1).mrr()), ElementsAre("EUR 9900"));

  // The reversal brings the MRR back and churns nothing.
  response = MustUpdate(source, 0, /*dry_run=*/false);
  EXPECT_THAT(Amounts(response.impact().mrr_change()),
              ElementsAre("EUR 7800", "USD 10000"));
  EXPECT_THAT(response.impact().churned_mrr(), IsEmpty());

  // A reprocess under unchanged settings changes no MRR.
  {
    grpc::ClientContext context;
    v1::ReprocessDataSourceRequest request;
    request.set_data_source_uuid(source);
    v1::ReprocessDataSourceResponse reprocessed;
    ASSERT_TRUE(
        settings_->ReprocessDataSource(&context, request, &reprocessed).ok());
    EXPECT_THAT(reprocessed.impact().mrr_change(), IsEmpty());
    EXPECT_THAT(reprocessed.impact().churned_mrr(), IsEmpty());
  }

  // The history keeps each version's MRR impact.
  grpc::ClientContext context;
  v1::ListSettingsHistoryRequest request;
  request.set_data_source_uuid(source);
  v1::ListSettingsHistoryResponse history;
  ASSERT_TRUE(settings_->ListSettingsHistory(&context, request, &history).ok());
  ASSERT_EQ(history.versions_size(), 3);
  EXPECT_THAT(history.versions(0).impact().mrr_change(), IsEmpty());
  EXPECT_THAT(Amounts(history.versions(1).impact().mrr_change()),
              ElementsAre("EUR -7800", "USD -10000"));
  EXPECT_THAT(Amounts(history.versions(1).impact().churned_mrr()),
              ElementsAre("EUR 7800", "USD 10000"));
  EXPECT_THAT(Amounts(history.versions(2).impact().mrr_change()),
              ElementsAre("EUR 7800", "USD 10000"));
  EXPECT_THAT(history.versions(2).impact().churned_mrr(), IsEmpty());
}

}  // namespace
}  // namespace recurrent::service::testing
