// One customer with very many subscriptions or invoices (issue 13, point
// 6): ListSubscriptions is paged like every list, and imports or merges
// beyond the per-customer limits are refused whole. Before, one valid
// import of 1,000 invoices x 100 line items made ListSubscriptions fail
// forever (its response was over the message limit).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class CustomerLimitsTest : public ApiTest {
 protected:
  // One invoice whose `count` line items each name their own subscription
  // ("<prefix>-<i>"), for January 2025.
  static v1::Invoice ManySubscriptions(const std::string& external_id,
                                       const std::string& prefix, int count) {
    InvoiceSpec spec;
    spec.external_id = external_id;
    spec.subscription = prefix + "-0";
    spec.start = T("2025-01-01");
    spec.end = T("2025-02-01");
    v1::Invoice invoice = MakeInvoice(spec);
    const v1::LineItem first = invoice.line_items(0);
    for (int i = 1; i < count; ++i) {
      v1::LineItem* item = invoice.add_line_items();
      *item = first;
      item->set_external_id(absl::StrCat(external_id, "-li-", i));
      item->set_subscription_external_id(absl::StrCat(prefix, "-", i));
    }
    return invoice;
  }

  grpc::Status ImportProto(const std::string& customer,
                           const std::vector<v1::Invoice>& invoices) {
    grpc::ClientContext context;
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer);
    for (const v1::Invoice& invoice : invoices) *request.add_invoices() = invoice;
    v1::ImportInvoicesResponse response;
    return invoices_->ImportInvoices(&context, request, &response);
  }

  grpc::Status ListPage(const std::string& customer, int page_size,
                        const std::string& token,
                        v1::ListSubscriptionsResponse* response) {
    grpc::ClientContext context;
    v1::ListSubscriptionsRequest request;
    request.set_customer_uuid(customer);
    *request.mutable_as_of() = TimeToProto(T("2025-01-15"));
    request.set_page_size(page_size);
    request.set_page_token(token);
    return customers_->ListSubscriptions(&context, request, response);
  }
};

TEST_F(CustomerLimitsTest, ListSubscriptionsIsPagedInCreationOrder) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  ASSERT_TRUE(ImportProto(customer, {ManySubscriptions("inv-1", "b", 70)}).ok());
  ASSERT_TRUE(ImportProto(customer, {ManySubscriptions("inv-2", "a", 50)}).ok());
  // page_size 0 means 50.
  v1::ListSubscriptionsResponse first;
  ASSERT_TRUE(ListPage(customer, 0, "", &first).ok());
  EXPECT_EQ(first.subscriptions_size(), 50);
  EXPECT_FALSE(first.next_page_token().empty());
  // 120 in pages of 50: 50, 50, 20, in creation order ("b-…" first).
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListSubscriptionsResponse page;
    ASSERT_TRUE(ListPage(customer, 50, token, &page).ok());
    for (const v1::Subscription& sub : page.subscriptions()) {
      seen.push_back(sub.external_id());
    }
    token = page.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 120u);
  for (int i = 0; i < 70; ++i) EXPECT_EQ(seen[i], absl::StrCat("b-", i));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[70 + i], absl::StrCat("a-", i));
  // A token is only good for the customer it was made for.
  const std::string other = CreateCustomer(source, "c2");
  v1::ListSubscriptionsResponse wrong;
  EXPECT_EQ(ListPage(other, 50, first.next_page_token(), &wrong).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ListPage(customer, 50, "garbage!", &wrong).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ListPage(customer, -1, "", &wrong).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// The adversarial import itself: 1,000 invoices x 100 line items, 100,000
// subscriptions, with the default limits.
TEST_F(CustomerLimitsTest, AHundredThousandSubscriptionsAreRefused) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  std::vector<v1::Invoice> invoices;
  for (int i = 0; i < 1000; ++i) {
    invoices.push_back(ManySubscriptions(absl::StrCat("inv-", i),
                                         absl::StrCat("s", i), 100));
  }
  const grpc::Status status = ImportProto(customer, invoices);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("more than 10000 subscriptions"));
  EXPECT_EQ(ReasonOf(status), "SUBSCRIPTION_LIMIT");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("limit"), "10000");
  EXPECT_THAT(ListInvoices(customer), IsEmpty());
  v1::ListSubscriptionsResponse listed;
  ASSERT_TRUE(ListPage(customer, 0, "", &listed).ok());
  EXPECT_EQ(listed.subscriptions_size(), 0);
}

TEST_F(CustomerLimitsTest, ImportsAndMergesOverTheLimitsStoreNothing) {
  TestServerOptions options;
  options.store.max_subscriptions_per_customer = 5;
  options.store.max_invoices_per_customer = 8;
  RestartWith(options);
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  // Subscriptions: 4 stored, then 2 more is over 5.
  ASSERT_TRUE(ImportProto(customer, {ManySubscriptions("inv-1", "a", 4)}).ok());
  grpc::Status status =
      ImportProto(customer, {ManySubscriptions("inv-2", "b", 2)});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("6 subscriptions, over the limit of 5 per customer "
                        "(--max_subscriptions_per_customer)"));
  EXPECT_EQ(ReasonOf(status), "SUBSCRIPTION_LIMIT");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("limit"), "5");
  EXPECT_EQ(ListInvoices(customer).size(), 1u);
  // Invoices: 7 more of subscription a-0 make 8, one more is over.
  MustImport(customer, Monthly("a-0", T("2025-02-01"), 7));
  status = Import(customer, Monthly("a-0", T("2025-09-01"), 1));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("9 invoices, over the limit of 8 per customer"));
  EXPECT_EQ(ReasonOf(status), "INVOICE_LIMIT");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("limit"), "8");
  EXPECT_FALSE(RetryDelayOf(status).has_value());
  EXPECT_EQ(ListInvoices(customer).size(), 8u);
  // An identical re-send adds nothing, so it is not refused.
  EXPECT_TRUE(Import(customer, Monthly("a-0", T("2025-02-01"), 7)).ok());
  // A merge that would go over is refused whole.
  const std::string other = CreateCustomer(source, "c2");
  ASSERT_TRUE(ImportProto(other, {ManySubscriptions("inv-3", "c", 2)}).ok());
  grpc::ClientContext context;
  v1::MergeCustomersRequest merge;
  merge.set_from_customer_uuid(other);
  merge.set_into_customer_uuid(customer);
  v1::Customer merged;
  status = customers_->MergeCustomers(&context, merge, &merged);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("this merge would give"));
  EXPECT_EQ(ListInvoices(other).size(), 1u);
  EXPECT_EQ(ListInvoices(customer).size(), 8u);
}

}  // namespace
}  // namespace recurrent::service::testing
