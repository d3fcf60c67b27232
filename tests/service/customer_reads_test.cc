// The fields that explain a customer's reads (issue 16): Customer.status_reason
// on every answer that carries a status (the cache included),
// ListCustomersRequest.as_of (statuses and the status filter at an instant)
// and SubscriptionEvent.status_after (ListSubscriptionEvents, change feed).
// Runs on the backend RECURRENT_TEST_BACKEND names (ctest runs both).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CustomerReadsTest : public ApiTest {
 protected:
  // Every customer matching `request` (its filters and as_of), read page by
  // page with `page_size`.
  std::vector<v1::Customer> ListAll(v1::ListCustomersRequest request,
                                    int page_size = 1000) {
    request.set_page_size(page_size);
    std::vector<v1::Customer> out;
    for (int pages = 0; pages < 100; ++pages) {
      grpc::ClientContext context;
      v1::ListCustomersResponse response;
      const grpc::Status status =
          customers_->ListCustomers(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const v1::Customer& c : response.customers()) out.push_back(c);
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  }

  v1::ListCustomersRequest At(absl::Time as_of) {
    v1::ListCustomersRequest request;
    *request.mutable_as_of() = TimeToProto(as_of);
    return request;
  }

  // The subscription `external_id` of `customer` at `as_of`.
  v1::Subscription SubscriptionNamed(const std::string& customer,
                                     const std::string& external_id,
                                     absl::Time as_of) {
    for (const v1::Subscription& s : Subscriptions(customer, as_of)) {
      if (s.external_id() == external_id) return s;
    }
    ADD_FAILURE() << "no subscription " << external_id;
    return v1::Subscription();
  }
};

TEST_F(CustomerReadsTest, StatusReasonOnEveryAnswerThatCarriesAStatus) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  EXPECT_EQ(GetCustomer(customer).status_reason(),
            "No subscription has started yet.");

  // sub-a (created first) is paid monthly; sub-b's February invoice is
  // unpaid, due 2025-02-01.
  std::vector<InvoiceSpec> specs = Monthly("sub-a", T("2025-01-01"), 3);
  std::vector<InvoiceSpec> b = Monthly("sub-b", T("2025-01-01"), 2);
  b[1].payments.clear();
  specs.insert(specs.end(), b.begin(), b.end());
  server_.clock().Set(T("2025-02-10"));
  MustImport(customer, specs);

  const v1::Customer now = GetCustomer(customer);
  ASSERT_EQ(now.status(), v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_EQ(now.status_reason(),
            "Subscription sub-b: " +
                SubscriptionNamed(customer, "sub-b", T("2025-02-10"))
                    .status_reason());
  EXPECT_THAT(now.status_reason(),
              StartsWith("Subscription sub-b: Past due since 2025-02-01"));
  // At an earlier instant both are active: the first created decides.
  const v1::Customer before = GetCustomer(customer, T("2025-01-15"));
  ASSERT_EQ(before.status(), v1::CUSTOMER_STATUS_ACTIVE);
  EXPECT_EQ(before.status_reason(),
            "Subscription sub-a: Active since 2025-01-01: nothing is past "
            "due.");

  // The stored answer of ListCustomers and of the writes that return a
  // customer carries the same sentence.
  v1::ListCustomersRequest all;
  all.set_data_source_uuid(source);
  ASSERT_EQ(ListAll(all).size(), 1u);
  EXPECT_EQ(ListAll(all)[0].status_reason(), now.status_reason());
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(customer);
    request.add_tags("vip");
    v1::Customer out;
    ASSERT_TRUE(customers_->AddCustomerTags(&context, request, &out).ok());
    EXPECT_EQ(out.status_reason(), now.status_reason());
  }
  {
    grpc::ClientContext context;
    v1::UpdateCustomerRequest request;
    request.mutable_customer()->set_uuid(customer);
    request.mutable_customer()->set_name("Ada");
    request.mutable_update_mask()->add_paths("name");
    v1::Customer out;
    ASSERT_TRUE(customers_->UpdateCustomer(&context, request, &out).ok());
    EXPECT_EQ(out.status_reason(), now.status_reason());
  }

  // Cancelling both: the one cancelled last decides.
  ASSERT_TRUE(Cancel(SubscriptionNamed(customer, "sub-b", T("2025-02-10")).uuid(),
                     T("2025-02-05"))
                  .ok());
  ASSERT_TRUE(Cancel(SubscriptionNamed(customer, "sub-a", T("2025-02-10")).uuid(),
                     T("2025-02-08"))
                  .ok());
  EXPECT_EQ(GetCustomer(customer).status_reason(),
            "Subscription sub-a: Cancelled on 2025-02-08 by an explicit "
            "cancellation.");
  EXPECT_EQ(ListAll(all)[0].status_reason(),
            GetCustomer(customer).status_reason());

  // A lead whose subscription starts later names it; merging it in returns
  // the merged customer with its reason.
  const std::string later = CreateCustomer(source, "c2");
  MustImport(later, Monthly("sub-f", T("2025-06-01"), 1));
  EXPECT_EQ(GetCustomer(later).status_reason(),
            "No subscription has started yet: subscription sub-f starts "
            "2025-06-01.");
  EXPECT_EQ(GetCustomer(later, T("2025-06-02")).status_reason(),
            "Subscription sub-f: Active since 2025-06-01: nothing is past "
            "due.");
  {
    grpc::ClientContext context;
    v1::MergeCustomersRequest request;
    request.set_from_customer_uuid(later);
    request.set_into_customer_uuid(customer);
    v1::Customer out;
    ASSERT_TRUE(customers_->MergeCustomers(&context, request, &out).ok());
    EXPECT_EQ(out.status_reason(), GetCustomer(customer).status_reason());
    EXPECT_FALSE(out.status_reason().empty());
  }
}

TEST_F(CustomerReadsTest, ACachedReadCarriesTheSameReasonAsAnUncachedOne) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 2);
  specs[1].payments.clear();
  MustImport(customer, specs);
  server_.clock().Set(T("2025-02-03"));

  const CustomerCache::Stats before =
      server_.server().customer_cache().stats();
  const v1::Customer first = GetCustomer(customer);   // fills the cache
  const v1::Customer cached = GetCustomer(customer);  // served from it
  EXPECT_GT(server_.server().customer_cache().stats().hits, before.hits);
  const v1::Customer uncached = GetCustomer(customer, T("2025-02-03"));
  ASSERT_EQ(first.status(), v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_THAT(first.status_reason(),
              StartsWith("Subscription sub-1: Past due since 2025-02-01"));
  EXPECT_EQ(cached.status_reason(), first.status_reason());
  EXPECT_EQ(uncached.status_reason(), first.status_reason());

  // After the payment, the cache answers the new reason.
  const std::vector<v1::Invoice> invoices = ListInvoices(customer);
  ASSERT_TRUE(Pay(invoices[1].uuid(), "pay-2", T("2025-02-03")).ok());
  EXPECT_THAT(GetCustomer(customer).status_reason(),
              StartsWith("Subscription sub-1: Active since"));
  EXPECT_EQ(GetCustomer(customer).status_reason(),
            GetCustomer(customer, T("2025-02-03")).status_reason());
}

TEST_F(CustomerReadsTest, ListCustomersAsOfAnswersAsGetCustomerAtThatInstant) {
  const std::string source = CreateSource("Stripe");
  std::vector<std::string> customers;
  // c0: a lead forever; c1: paid monthly Jan-Mar then nothing (past due
  // from April 1st, not renewed); c2: February unpaid (past due from
  // 2025-02-01); c3: starts in May; c4: cancelled on 2025-02-15.
  for (int i = 0; i < 5; ++i) {
    customers.push_back(CreateCustomer(source, "c" + std::to_string(i)));
  }
  MustImport(customers[1], Monthly("s1", T("2025-01-01"), 3));
  std::vector<InvoiceSpec> unpaid = Monthly("s2", T("2025-01-01"), 2);
  unpaid[1].payments.clear();
  MustImport(customers[2], unpaid);
  MustImport(customers[3], Monthly("s3", T("2025-05-01"), 1));
  MustImport(customers[4], Monthly("s4", T("2025-01-01"), 3));
  server_.clock().Set(T("2025-03-10"));
  ASSERT_TRUE(
      Cancel(Subscription(customers[4], T("2025-03-10")).uuid(), T("2025-02-15"))
          .ok());

  const std::vector<v1::CustomerStatus> statuses = {
      v1::CUSTOMER_STATUS_LEAD, v1::CUSTOMER_STATUS_ACTIVE,
      v1::CUSTOMER_STATUS_PAST_DUE, v1::CUSTOMER_STATUS_CANCELLED};
  std::map<v1::CustomerStatus, int> seen;
  for (const absl::Time t : {T("2024-12-01"), T("2025-01-15"), T("2025-02-20"),
                             T("2025-03-10"), T("2025-04-15"),
                             T("2025-05-15")}) {
    // Every customer, one per page: the statuses and reasons GetCustomer
    // gives at t, and the token continues the listing.
    const std::vector<v1::Customer> listed = ListAll(At(t), /*page_size=*/1);
    ASSERT_EQ(listed.size(), customers.size()) << absl::FormatTime(t);
    for (size_t i = 0; i < customers.size(); ++i) {
      const v1::Customer got = GetCustomer(customers[i], t);
      EXPECT_EQ(listed[i].uuid(), customers[i]);
      EXPECT_EQ(listed[i].status(), got.status())
          << customers[i] << " at " << absl::FormatTime(t);
      EXPECT_EQ(listed[i].status_reason(), got.status_reason());
      EXPECT_EQ(listed[i].tags_size(), got.tags_size());
    }
    // The status filter follows as_of.
    for (const v1::CustomerStatus status : statuses) {
      std::vector<std::string> expected;
      for (const std::string& c : customers) {
        if (GetCustomer(c, t).status() == status) expected.push_back(c);
      }
      seen[status] += expected.size();
      for (const int page_size : {1, 2, 1000}) {
        v1::ListCustomersRequest request = At(t);
        request.set_status(status);
        request.set_data_source_uuid(source);
        std::vector<std::string> uuids;
        for (const v1::Customer& c : ListAll(request, page_size)) {
          EXPECT_EQ(c.status(), status);
          uuids.push_back(c.uuid());
        }
        EXPECT_EQ(uuids, expected)
            << "status " << status << " at " << absl::FormatTime(t)
            << ", page size " << page_size;
      }
    }
  }
  // The instants cover every status, in the past and the future.
  for (const v1::CustomerStatus status : statuses) {
    EXPECT_GT(seen[status], 0) << status;
  }
  // Without as_of, the stored statuses (once the re-evaluator has caught
  // up) agree with as_of = now.
  ASSERT_TRUE(server_.server()
                  .store()
                  .ReevaluateDueCustomers(T("2025-03-10"), 1000)
                  .ok());
  for (const v1::CustomerStatus status : statuses) {
    v1::ListCustomersRequest request = At(T("2025-03-10"));
    request.set_status(status);
    std::vector<std::string> at_now;
    for (const v1::Customer& c : ListAll(request)) at_now.push_back(c.uuid());
    EXPECT_EQ(ListCustomerUuids(status), at_now) << status;
  }
}

TEST_F(CustomerReadsTest, ListCustomersRejectsABadAsOfAndAForeignToken) {
  const std::string source = CreateSource("Stripe");
  CreateCustomer(source, "c1");
  CreateCustomer(source, "c2");
  {
    v1::ListCustomersRequest request;
    request.mutable_as_of()->set_seconds(-62135596801);  // before year 1
    grpc::ClientContext context;
    v1::ListCustomersResponse response;
    const grpc::Status status =
        customers_->ListCustomers(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("as_of"));
  }
  {
    v1::ListCustomersRequest request = At(T("2025-01-01"));
    request.mutable_as_of()->set_nanos(-1);
    grpc::ClientContext context;
    v1::ListCustomersResponse response;
    const grpc::Status status =
        customers_->ListCustomers(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("as_of"));
  }
  // A token of an as_of listing with a status filter is not one of the
  // same filter without as_of (stored statuses): rejected, not misread.
  v1::ListCustomersRequest request = At(T("2025-01-01"));
  request.set_status(v1::CUSTOMER_STATUS_LEAD);
  request.set_page_size(1);
  std::string token;
  {
    grpc::ClientContext context;
    v1::ListCustomersResponse response;
    ASSERT_TRUE(customers_->ListCustomers(&context, request, &response).ok());
    ASSERT_EQ(response.customers_size(), 1);
    token = response.next_page_token();
    ASSERT_FALSE(token.empty());
  }
  request.set_page_token(token);
  const auto refused = [&](const v1::ListCustomersRequest& changed) {
    grpc::ClientContext context;
    v1::ListCustomersResponse response;
    const grpc::Status status =
        customers_->ListCustomers(&context, changed, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  };
  v1::ListCustomersRequest stored = request;
  stored.clear_as_of();
  refused(stored);
  // Nor one of another status, or of no status, at as_of.
  v1::ListCustomersRequest other_status = request;
  other_status.set_status(v1::CUSTOMER_STATUS_CANCELLED);
  refused(other_status);
  v1::ListCustomersRequest no_status = request;
  no_status.clear_status();
  refused(no_status);
  grpc::ClientContext context;
  v1::ListCustomersResponse response;
  EXPECT_TRUE(customers_->ListCustomers(&context, request, &response).ok());
}

// Every change of the feed about `customer`, oldest first.
std::vector<v1::Change> FeedOf(TestServer& server,
                               const std::string& customer) {
  std::unique_ptr<v1::ChangeFeedService::Stub> feed =
      v1::ChangeFeedService::NewStub(server.channel());
  grpc::ClientContext context;
  v1::ListChangesRequest request;
  request.set_customer_uuid(customer);
  request.set_page_size(1000);
  v1::ListChangesResponse response;
  const grpc::Status status = feed->ListChanges(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.changes().begin(), response.changes().end()};
}

absl::Time InstantOf(const v1::SubscriptionEvent& event) {
  return absl::FromUnixSeconds(event.occurred_at().seconds()) +
         absl::Nanoseconds(event.occurred_at().nanos());
}

TEST_F(CustomerReadsTest, EveryEventSaysTheStatusAfterIt) {
  // Auto-churn after 14 days. c1: STARTED, PAST_DUE, AUTO_CHURNED,
  // REACTIVATED, PAST_DUE, RECOVERED, CANCELLED. c2: its first invoice is
  // paid 5 days late (STARTED straight into PAST_DUE, RECOVERED); cancelled
  // on 2025-02-10 and its March invoice paid 3 days late (REACTIVATED
  // straight into PAST_DUE, RECOVERED).
  const std::string source = CreateSource("Stripe", 14);
  const std::string c1 = CreateCustomer(source, "c1");
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 6);
  specs[1].payments.clear();  // February: unpaid, churns on 2025-02-15
  specs[3].payments = {Payment{T("2025-04-05")}};  // paid 4 days late
  server_.clock().Set(T("2025-06-10"));
  MustImport(c1, specs);
  ASSERT_TRUE(
      Cancel(Subscription(c1, T("2025-06-10")).uuid(), T("2025-06-10")).ok());
  const std::string c2 = CreateCustomer(source, "c2");
  std::vector<InvoiceSpec> late = Monthly("sub-2", T("2025-01-01"), 4);
  late[0].payments = {Payment{T("2025-01-06")}};
  late[2].payments = {Payment{T("2025-03-04")}};
  MustImport(c2, late);
  ASSERT_TRUE(
      Cancel(Subscription(c2, T("2025-01-20")).uuid(), T("2025-02-10")).ok());

  EXPECT_THAT(EventStrings(c2),
              ::testing::ElementsAre(
                  "STARTED@2025-01-01T00:00:00", "RECOVERED@2025-01-06T00:00:00",
                  "CANCELLED@2025-02-10T00:00:00",
                  "REACTIVATED@2025-03-01T00:00:00",
                  "RECOVERED@2025-03-04T00:00:00",
                  "PAST_DUE@2025-05-01T00:00:00",
                  "AUTO_CHURNED@2025-05-15T00:00:00"));
  for (const std::string& customer : {c1, c2}) {
    const std::vector<v1::SubscriptionEvent> events = Events(customer);
    std::map<v1::SubscriptionEventType, int> types;
    for (const v1::SubscriptionEvent& event : events) {
      ++types[event.type()];
      // The status after each event is the subscription's status at its
      // instant (ListSubscriptions as of then), whatever the type.
      EXPECT_EQ(Subscription(customer, InstantOf(event)).status(),
                event.status_after())
          << customer << " " << v1::SubscriptionEventType_Name(event.type());
    }
    if (customer == c1) {
      for (const v1::SubscriptionEventType type :
           {v1::SUBSCRIPTION_EVENT_TYPE_STARTED,
            v1::SUBSCRIPTION_EVENT_TYPE_PAST_DUE,
            v1::SUBSCRIPTION_EVENT_TYPE_RECOVERED,
            v1::SUBSCRIPTION_EVENT_TYPE_CANCELLED,
            v1::SUBSCRIPTION_EVENT_TYPE_AUTO_CHURNED,
            v1::SUBSCRIPTION_EVENT_TYPE_REACTIVATED}) {
        EXPECT_GT(types[type], 0) << v1::SubscriptionEventType_Name(type);
      }
    }
  }
  const std::vector<v1::SubscriptionEvent> c2_events = Events(c2);
  ASSERT_EQ(c2_events.size(), 7u);
  EXPECT_EQ(c2_events[0].status_after(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(c2_events[3].status_after(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  EXPECT_EQ(c2_events[1].status_after(), v1::SUBSCRIPTION_STATUS_ACTIVE);

  // The change feed carries the same field on its events: replayed, its
  // publications minus its retractions (each retracted as it was published)
  // are the listed events, field for field.
  for (const std::string& customer : {c1, c2}) {
    std::map<std::string, std::string> replayed;  // uuid -> event
    for (const v1::Change& change : FeedOf(server_, customer)) {
      const std::string& uuid = change.event().uuid();
      if (change.type() == v1::CHANGE_TYPE_EVENT_PUBLISHED) {
        EXPECT_TRUE(
            replayed.emplace(uuid, change.event().SerializeAsString()).second)
            << uuid;
      } else if (change.type() == v1::CHANGE_TYPE_EVENT_RETRACTED) {
        EXPECT_EQ(replayed[uuid], change.event().SerializeAsString()) << uuid;
        replayed.erase(uuid);
      }
    }
    std::map<std::string, std::string> expected;
    for (const v1::SubscriptionEvent& event : Events(customer, T("2025-06-10"))) {
      expected[event.uuid()] = event.SerializeAsString();
    }
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(replayed, expected) << customer;
  }
}

// A fact that changes where an event leads (not its type or instant) makes
// it another event: the stored one is replaced under a new uuid, the feed
// retracts the old one (as published) and publishes the new one.
TEST_F(CustomerReadsTest, AFactThatChangesStatusAfterReplacesTheEvent) {
  const std::string source = CreateSource("Stripe");
  const std::string customer = CreateCustomer(source, "c1");
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 1);
  specs[0].end = T("2025-03-01");
  specs[0].payments.clear();  // unpaid: starts straight into PAST_DUE
  server_.clock().Set(T("2025-01-10"));
  MustImport(customer, specs);
  // Up to now (a future PAST_DUE at the period's end appears once paid).
  const std::vector<v1::SubscriptionEvent> before =
      Events(customer, T("2025-01-10"));
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].type(), v1::SUBSCRIPTION_EVENT_TYPE_STARTED);
  EXPECT_EQ(before[0].status_after(), v1::SUBSCRIPTION_STATUS_PAST_DUE);
  const size_t seen = FeedOf(server_, customer).size();

  // Paid in full at the due date, recorded late: it started ACTIVE.
  const std::vector<v1::Invoice> invoices = ListInvoices(customer);
  ASSERT_EQ(invoices.size(), 1u);
  ASSERT_TRUE(Pay(invoices[0].uuid(), "tx-late", T("2025-01-01")).ok());
  const std::vector<v1::SubscriptionEvent> after =
      Events(customer, T("2025-01-10"));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].type(), v1::SUBSCRIPTION_EVENT_TYPE_STARTED);
  EXPECT_EQ(InstantOf(after[0]), InstantOf(before[0]));
  EXPECT_EQ(after[0].status_after(), v1::SUBSCRIPTION_STATUS_ACTIVE);
  EXPECT_NE(after[0].uuid(), before[0].uuid());
  EXPECT_EQ(Subscription(customer, T("2025-01-01")).status(),
            v1::SUBSCRIPTION_STATUS_ACTIVE);

  const std::vector<v1::Change> feed = FeedOf(server_, customer);
  ASSERT_EQ(feed.size(), seen + 3);
  EXPECT_EQ(feed[seen].type(), v1::CHANGE_TYPE_EVENT_RETRACTED);
  EXPECT_EQ(feed[seen].event().SerializeAsString(),
            before[0].SerializeAsString());
  EXPECT_EQ(feed[seen + 1].type(), v1::CHANGE_TYPE_EVENT_PUBLISHED);
  EXPECT_EQ(feed[seen + 1].event().SerializeAsString(),
            after[0].SerializeAsString());
  EXPECT_EQ(feed[seen + 2].type(), v1::CHANGE_TYPE_CUSTOMER_STATUS_CHANGED);
  EXPECT_EQ(feed[seen + 2].previous_customer_status(),
            v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_EQ(feed[seen + 2].customer_status(), v1::CUSTOMER_STATUS_ACTIVE);
}

}  // namespace
}  // namespace recurrent::service::testing
