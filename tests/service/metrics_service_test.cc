// MetricsService through the public API (protos/recurrent/v1/metrics.proto):
// each RPC's answer on a small data set with exact cents, every validation
// error naming its field, and NOT_FOUND for an unknown source or customer.
// Runs on the default test backend (service_test_on_postgres: PostgreSQL).
//
// The data set (KEEP everywhere):
//   source A, EUR: alice, monthly 49.00 for Jan-Feb 2025, cancelled Feb 15;
//                  bob, monthly 100.00 from Feb 1, March's invoice unpaid
//                  (PAST_DUE from Mar 1, keeping its MRR, M2).
//   source B, USD: carol, annual 1,200.00 from Jan 1 2025 (MRR 100.00, M1);
//                  dave, a lead.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "recurrent/v1/metrics.grpc.pb.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"

namespace recurrent::service::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAreArray;

std::string Day(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime(
      "%Y-%m-%dT%H:%M:%S",
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
      absl::UTCTimeZone());
}

class MetricsServiceTest : public ApiTest {
 protected:
  void SetUp() override {
    server_.clock().Set(T("2025-06-01"));  // cancellations are in the past
    source_a_ = CreateSource("A");
    source_b_ = CreateSource("B");
    alice_ = CreateCustomer(source_a_, "alice");
    bob_ = CreateCustomer(source_a_, "bob");
    carol_ = CreateCustomer(source_b_, "carol");
    dave_ = CreateCustomer(source_b_, "dave");

    MustImport(alice_, Monthly("sub-a", T("2025-01-01"), 2));
    const std::string sub_a = Subscription(alice_, T("2025-01-10")).uuid();
    const grpc::Status cancelled = Cancel(sub_a, T("2025-02-15"));
    ASSERT_TRUE(cancelled.ok()) << cancelled.error_message();

    std::vector<InvoiceSpec> bob = Monthly("sub-b", T("2025-02-01"), 2);
    for (InvoiceSpec& spec : bob) spec.amount = 10000;
    bob[1].payments.clear();  // March: due Mar 1, never paid
    MustImport(bob_, bob);

    InvoiceSpec annual{"carol-2025", "sub-c", T("2025-01-01"),
                       T("2026-01-01"), 120000, T("2025-01-01"),
                       {Payment{T("2025-01-01")}}};
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(carol_);
    v1::Invoice* invoice = request.add_invoices();
    *invoice = MakeInvoice(annual);
    invoice->set_currency("USD");
    grpc::ClientContext context;
    v1::ImportInvoicesResponse response;
    grpc::Status status =
        invoices_->ImportInvoices(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  grpc::Status GetMrr(const v1::GetMrrRequest& request,
                      v1::GetMrrResponse* response) {
    grpc::ClientContext context;
    return metrics_->GetMrr(&context, request, response);
  }
  v1::GetMrrResponse MustGetMrr(const std::string& source, absl::Time as_of) {
    v1::GetMrrRequest request;
    request.set_data_source_uuid(source);
    *request.mutable_as_of() = TimeToProto(as_of);
    v1::GetMrrResponse response;
    grpc::Status status = GetMrr(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status ListMovements(const v1::ListMrrMovementsRequest& request,
                             v1::ListMrrMovementsResponse* response) {
    grpc::ClientContext context;
    return metrics_->ListMrrMovements(&context, request, response);
  }
  // Every movement of `request`'s filters, all pages, as Describe() strings.
  std::vector<std::string> AllMovements(v1::ListMrrMovementsRequest request) {
    std::vector<std::string> all;
    absl::Time last = absl::InfinitePast();
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListMrrMovementsResponse response;
      grpc::Status status = ListMovements(request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      if (request.page_size() > 0) {
        EXPECT_LE(response.movements_size(), request.page_size());
      }
      for (const v1::MrrMovement& m : response.movements()) {
        const absl::Time at = absl::FromUnixSeconds(m.occurred_at().seconds());
        EXPECT_LE(last, at) << "not in time order";
        last = at;
        all.push_back(Describe(m));
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return all;
  }

  grpc::Status GetSeries(const v1::GetMrrSeriesRequest& request,
                         v1::GetMrrSeriesResponse* response) {
    grpc::ClientContext context;
    return metrics_->GetMrrSeries(&context, request, response);
  }
  static v1::GetMrrSeriesRequest SeriesRequest(const std::string& source,
                                               absl::Time start,
                                               absl::Time end,
                                               v1::SeriesInterval interval) {
    v1::GetMrrSeriesRequest request;
    request.set_data_source_uuid(source);
    *request.mutable_start_time() = TimeToProto(start);
    *request.mutable_end_time() = TimeToProto(end);
    request.set_interval(interval);
    return request;
  }

  // "TYPE customer source currency occurred_at change=… after=…", with the
  // fixture's names for the uuids.
  std::string Describe(const v1::MrrMovement& m) const {
    absl::string_view type = v1::MrrMovementType_Name(m.type());
    type.remove_prefix(std::string("MRR_MOVEMENT_TYPE_").size());
    return absl::StrCat(type, " ", Name(m.customer_uuid()), " ",
                        Name(m.data_source_uuid()), " ", m.currency(), " ",
                        Day(m.occurred_at()), " ", m.mrr_change_in_cents(),
                        " -> ", m.mrr_after_in_cents());
  }
  std::string Name(const std::string& uuid) const {
    if (uuid == source_a_) return "A";
    if (uuid == source_b_) return "B";
    if (uuid == alice_) return "alice";
    if (uuid == bob_) return "bob";
    if (uuid == carol_) return "carol";
    if (uuid == dave_) return "dave";
    return uuid;
  }

  static std::string Total(const v1::MrrTotal& t) {
    return absl::StrCat(t.currency(), " mrr=", t.mrr_in_cents(),
                        " active=", t.active_mrr_in_cents(),
                        " past_due=", t.past_due_mrr_in_cents(),
                        " customers=", t.active_customers(), "/",
                        t.past_due_customers());
  }
  static std::vector<std::string> Totals(const v1::GetMrrResponse& r) {
    std::vector<std::string> out;
    for (const v1::MrrTotal& t : r.totals()) out.push_back(Total(t));
    return out;
  }
  // "start | EUR mrr (nb,exp,con,churn,react) ... | lead/active/pd/cancelled"
  static std::string Point(const v1::MrrSeriesPoint& p) {
    std::string out = absl::StrCat(Day(p.start_time()), " |");
    for (const v1::MrrSeriesTotal& t : p.totals()) {
      absl::StrAppend(&out, " ", t.currency(), " ", t.mrr_in_cents(), " (",
                      t.new_business_in_cents(), ",", t.expansion_in_cents(),
                      ",", t.contraction_in_cents(), ",", t.churn_in_cents(),
                      ",", t.reactivation_in_cents(), ")");
    }
    absl::StrAppend(&out, " | ", p.lead_customers(), "/", p.active_customers(),
                    "/", p.past_due_customers(), "/",
                    p.cancelled_customers());
    return out;
  }
  static std::vector<std::string> Points(const v1::GetMrrSeriesResponse& r) {
    std::vector<std::string> out;
    for (const v1::MrrSeriesPoint& p : r.points()) out.push_back(Point(p));
    return out;
  }

  std::string source_a_;
  std::string source_b_;
  std::string alice_;
  std::string bob_;
  std::string carol_;
  std::string dave_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_ =
      v1::MetricsService::NewStub(server_.channel());
};

// An INVALID_ARGUMENT of reason INVALID_FIELD naming `field`.
void ExpectInvalidField(const grpc::Status& status, const std::string& field) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << field << ": " << status.error_message();
  EXPECT_EQ(ReasonOf(status), "INVALID_FIELD") << field;
  const google::rpc::ErrorInfo info = ErrorInfoOf(status);
  ASSERT_EQ(info.metadata().count("field"), 1u) << status.error_message();
  EXPECT_EQ(info.metadata().at("field"), field) << status.error_message();
}

// ---- GetMrr -----------------------------------------------------------------

TEST_F(MetricsServiceTest, GetMrrTotalsPerCurrencyWithTheStatusSplit) {
  // Mid-January: alice (EUR) and carol (USD) active; bob not started yet.
  v1::GetMrrResponse january = MustGetMrr("", T("2025-01-15"));
  EXPECT_EQ(Day(january.as_of()), "2025-01-15T00:00:00");
  EXPECT_THAT(Totals(january),
              ElementsAre("EUR mrr=4900 active=4900 past_due=0 customers=1/0",
                          "USD mrr=10000 active=10000 past_due=0 customers=1/0"));
  EXPECT_EQ(january.lead_customers(), 2);  // bob, dave
  EXPECT_EQ(january.cancelled_customers(), 0);

  // Mid-March: alice cancelled, bob past due and still counted (M2).
  v1::GetMrrResponse march = MustGetMrr("", T("2025-03-15"));
  EXPECT_THAT(
      Totals(march),
      ElementsAre("EUR mrr=10000 active=0 past_due=10000 customers=0/1",
                  "USD mrr=10000 active=10000 past_due=0 customers=1/0"));
  EXPECT_EQ(march.lead_customers(), 1);  // dave
  EXPECT_EQ(march.cancelled_customers(), 1);  // alice

  // One source at a time.
  v1::GetMrrResponse a = MustGetMrr(source_a_, T("2025-03-15"));
  EXPECT_THAT(Totals(a), ElementsAre("EUR mrr=10000 active=0 past_due=10000 "
                                     "customers=0/1"));
  EXPECT_EQ(a.lead_customers(), 0);
  EXPECT_EQ(a.cancelled_customers(), 1);
  v1::GetMrrResponse b = MustGetMrr(source_b_, T("2025-03-15"));
  EXPECT_THAT(Totals(b), ElementsAre("USD mrr=10000 active=10000 past_due=0 "
                                     "customers=1/0"));
  EXPECT_EQ(b.lead_customers(), 1);
  EXPECT_EQ(b.cancelled_customers(), 0);

  // Before anything started: no totals, every customer a lead.
  v1::GetMrrResponse before = MustGetMrr("", T("2024-06-01"));
  EXPECT_THAT(before.totals(), IsEmpty());
  EXPECT_EQ(before.lead_customers(), 4);
}

TEST_F(MetricsServiceTest, GetMrrDefaultsToNowAndAcceptsTheFuture) {
  server_.clock().Set(T("2025-02-10T12:00:00"));
  v1::GetMrrResponse now;
  ASSERT_TRUE(GetMrr(v1::GetMrrRequest(), &now).ok());
  EXPECT_EQ(Day(now.as_of()), "2025-02-10T12:00:00");
  EXPECT_THAT(
      Totals(now),
      ElementsAre("EUR mrr=14900 active=14900 past_due=0 customers=2/0",
                  "USD mrr=10000 active=10000 past_due=0 customers=1/0"));

  // Far past carol's year: her annual plan was never renewed, so she is
  // past due (R3b) and keeps her MRR (M2).
  v1::GetMrrResponse later = MustGetMrr(source_b_, T("2027-01-01"));
  EXPECT_THAT(Totals(later), ElementsAre("USD mrr=10000 active=0 "
                                         "past_due=10000 customers=0/1"));
}

TEST_F(MetricsServiceTest, GetMrrErrorsNameTheField) {
  v1::GetMrrResponse response;
  v1::GetMrrRequest request;
  request.set_data_source_uuid("cus_notasource");
  ExpectInvalidField(GetMrr(request, &response), "data_source_uuid");

  request = v1::GetMrrRequest();
  request.mutable_as_of()->set_nanos(-1);
  ExpectInvalidField(GetMrr(request, &response), "as_of");

  request = v1::GetMrrRequest();
  request.set_data_source_uuid("ds_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(GetMrr(request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ---- ListMrrMovements -------------------------------------------------------

TEST_F(MetricsServiceTest, ListMrrMovementsInTimeOrderWithFilters) {
  const std::vector<std::string> expected = {
      "NEW_BUSINESS alice A EUR 2025-01-01T00:00:00 4900 -> 4900",
      "NEW_BUSINESS carol B USD 2025-01-01T00:00:00 10000 -> 10000",
      "NEW_BUSINESS bob A EUR 2025-02-01T00:00:00 10000 -> 10000",
      "CHURN alice A EUR 2025-02-15T00:00:00 -4900 -> 0",
  };
  // All of them, in one page and one per page (ties at Jan 1 in any order).
  EXPECT_THAT(AllMovements(v1::ListMrrMovementsRequest()),
              UnorderedElementsAreArray(expected));
  v1::ListMrrMovementsRequest one_per_page;
  one_per_page.set_page_size(1);
  const std::vector<std::string> paged = AllMovements(one_per_page);
  EXPECT_THAT(paged, UnorderedElementsAreArray(expected));
  ASSERT_EQ(paged.size(), 4u);
  EXPECT_EQ(paged[2], expected[2]);
  EXPECT_EQ(paged[3], expected[3]);

  v1::ListMrrMovementsRequest by_customer;
  by_customer.set_customer_uuid(alice_);
  EXPECT_THAT(AllMovements(by_customer),
              ElementsAre(expected[0], expected[3]));

  v1::ListMrrMovementsRequest by_source;
  by_source.set_data_source_uuid(source_b_);
  EXPECT_THAT(AllMovements(by_source), ElementsAre(expected[1]));

  // start_time <= occurred_at < end_time.
  v1::ListMrrMovementsRequest window;
  *window.mutable_start_time() = TimeToProto(T("2025-02-01"));
  *window.mutable_end_time() = TimeToProto(T("2025-02-15"));
  EXPECT_THAT(AllMovements(window), ElementsAre(expected[2]));
  window.clear_end_time();
  EXPECT_THAT(AllMovements(window), ElementsAre(expected[2], expected[3]));
  window.clear_start_time();
  *window.mutable_end_time() = TimeToProto(T("2025-01-01"));
  EXPECT_THAT(AllMovements(window), IsEmpty());
  // Bounds finer than the stored microseconds keep their meaning.
  *window.mutable_start_time() = TimeToProto(T("2025-02-01"));
  window.mutable_start_time()->set_nanos(500);  // after bob's movement
  *window.mutable_end_time() = TimeToProto(T("2025-02-15"));
  window.mutable_end_time()->set_nanos(500);  // after alice's churn
  EXPECT_THAT(AllMovements(window), ElementsAre(expected[3]));

  // The filters together.
  v1::ListMrrMovementsRequest both;
  both.set_data_source_uuid(source_a_);
  both.set_customer_uuid(bob_);
  EXPECT_THAT(AllMovements(both), ElementsAre(expected[2]));
  both.set_data_source_uuid(source_b_);
  EXPECT_THAT(AllMovements(both), IsEmpty());
  // A lead has none.
  v1::ListMrrMovementsRequest lead;
  lead.set_customer_uuid(dave_);
  EXPECT_THAT(AllMovements(lead), IsEmpty());
}

TEST_F(MetricsServiceTest, ListMrrMovementsFollowsAPayment) {
  // Paying bob's March invoice changes no MRR (KEEP): the movements stay.
  const std::vector<std::string> before =
      AllMovements(v1::ListMrrMovementsRequest());
  std::string march;
  for (const v1::Invoice& invoice : ListInvoices(bob_)) {
    if (invoice.external_id() == "sub-b-2025-03") march = invoice.uuid();
  }
  ASSERT_FALSE(march.empty());
  ASSERT_TRUE(Pay(march, "bob-late", T("2025-03-20")).ok());
  EXPECT_THAT(AllMovements(v1::ListMrrMovementsRequest()),
              UnorderedElementsAreArray(before));
  // ...but bob is active again.
  EXPECT_THAT(Totals(MustGetMrr(source_a_, T("2025-03-25"))),
              ElementsAre("EUR mrr=10000 active=10000 past_due=0 "
                          "customers=1/0"));

  // Auto-churn after 10 days turns bob's unpaid April (the missing renewal)
  // into a CHURN 10 days after it, and the answer follows at once (M5).
  SetAutoChurn(source_a_, 10);
  v1::ListMrrMovementsRequest request;
  request.set_customer_uuid(bob_);
  EXPECT_THAT(
      AllMovements(request),
      ElementsAre("NEW_BUSINESS bob A EUR 2025-02-01T00:00:00 10000 -> 10000",
                  "CHURN bob A EUR 2025-04-11T00:00:00 -10000 -> 0"));
}

TEST_F(MetricsServiceTest, ListMrrMovementsErrorsNameTheField) {
  v1::ListMrrMovementsResponse response;
  const auto invalid = [&](const std::string& field,
                           const v1::ListMrrMovementsRequest& request) {
    ExpectInvalidField(ListMovements(request, &response), field);
  };
  v1::ListMrrMovementsRequest request;
  request.set_data_source_uuid("source");
  invalid("data_source_uuid", request);

  request = v1::ListMrrMovementsRequest();
  request.set_customer_uuid("ds_notacustomer");
  invalid("customer_uuid", request);

  request = v1::ListMrrMovementsRequest();
  request.mutable_start_time()->set_nanos(1'000'000'000);
  invalid("start_time", request);

  request = v1::ListMrrMovementsRequest();
  request.mutable_end_time()->set_seconds(-100'000'000'000);
  invalid("end_time", request);

  request = v1::ListMrrMovementsRequest();
  *request.mutable_start_time() = TimeToProto(T("2025-02-01"));
  *request.mutable_end_time() = TimeToProto(T("2025-02-01"));
  invalid("end_time", request);

  request = v1::ListMrrMovementsRequest();
  request.set_page_size(-1);
  invalid("page_size", request);

  request = v1::ListMrrMovementsRequest();
  request.set_page_token("not-a-token");
  invalid("page_token", request);

  // A token is only good for the filters it was made with.
  request = v1::ListMrrMovementsRequest();
  request.set_page_size(1);
  ASSERT_TRUE(ListMovements(request, &response).ok());
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_page_token(response.next_page_token());
  request.set_data_source_uuid(source_a_);
  invalid("page_token", request);

  request = v1::ListMrrMovementsRequest();
  request.set_customer_uuid("cus_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(ListMovements(request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request = v1::ListMrrMovementsRequest();
  request.set_data_source_uuid("ds_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(ListMovements(request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ---- GetMrrSeries -----------------------------------------------------------

TEST_F(MetricsServiceTest, GetMrrSeriesMonthly) {
  v1::GetMrrSeriesResponse response;
  ASSERT_TRUE(GetSeries(SeriesRequest("", T("2025-01-01"), T("2025-04-01"),
                                      v1::SERIES_INTERVAL_MONTH),
                        &response)
                  .ok());
  // Counts (lead/active/past due/cancelled) at the end of each month.
  EXPECT_THAT(
      Points(response),
      ElementsAre(
          "2025-01-01T00:00:00 | EUR 4900 (4900,0,0,0,0) USD 10000 "
          "(10000,0,0,0,0) | 2/2/0/0",
          "2025-02-01T00:00:00 | EUR 10000 (10000,0,0,-4900,0) USD 10000 "
          "(0,0,0,0,0) | 1/2/0/1",
          "2025-03-01T00:00:00 | EUR 10000 (0,0,0,0,0) USD 10000 "
          "(0,0,0,0,0) | 1/1/1/1"));

  // One source; a start inside a month starts at that month.
  ASSERT_TRUE(GetSeries(SeriesRequest(source_a_, T("2025-01-20"),
                                      T("2025-02-02"),
                                      v1::SERIES_INTERVAL_MONTH),
                        &response)
                  .ok());
  EXPECT_THAT(Points(response),
              ElementsAre("2025-01-01T00:00:00 | EUR 4900 (4900,0,0,0,0) | "
                          "1/1/0/0",
                          "2025-02-01T00:00:00 | EUR 10000 "
                          "(10000,0,0,-4900,0) | 0/1/0/1"));
}

TEST_F(MetricsServiceTest, GetMrrSeriesWeeklyAndDaily) {
  v1::GetMrrSeriesResponse response;
  // 2025-02-15 is a Saturday: its week starts on Monday the 10th, and the
  // churn at its midnight belongs to it.
  ASSERT_TRUE(GetSeries(SeriesRequest(source_a_, T("2025-02-15"),
                                      T("2025-02-18"),
                                      v1::SERIES_INTERVAL_WEEK),
                        &response)
                  .ok());
  EXPECT_THAT(Points(response),
              ElementsAre("2025-02-10T00:00:00 | EUR 10000 (0,0,0,-4900,0) | "
                          "0/1/0/1",
                          "2025-02-17T00:00:00 | EUR 10000 (0,0,0,0,0) | "
                          "0/1/0/1"));

  // Days: a movement at the next day's midnight belongs to the next point.
  ASSERT_TRUE(GetSeries(SeriesRequest(source_a_, T("2025-02-14"),
                                      T("2025-02-16"), v1::SERIES_INTERVAL_DAY),
                        &response)
                  .ok());
  EXPECT_THAT(Points(response),
              ElementsAre("2025-02-14T00:00:00 | EUR 14900 (0,0,0,0,0) | "
                          "0/2/0/0",
                          "2025-02-15T00:00:00 | EUR 10000 (0,0,0,-4900,0) | "
                          "0/1/0/1"));
}

TEST_F(MetricsServiceTest, GetMrrSeriesErrorsNameTheField) {
  v1::GetMrrSeriesResponse response;
  const v1::GetMrrSeriesRequest good = SeriesRequest(
      "", T("2025-01-01"), T("2025-04-01"), v1::SERIES_INTERVAL_MONTH);
  ASSERT_TRUE(GetSeries(good, &response).ok());
  const auto invalid = [&](const std::string& field,
                           const v1::GetMrrSeriesRequest& request) {
    ExpectInvalidField(GetSeries(request, &response), field);
  };

  v1::GetMrrSeriesRequest request = good;
  request.set_data_source_uuid("cus_notasource");
  invalid("data_source_uuid", request);

  request = good;
  request.clear_start_time();
  invalid("start_time", request);
  request = good;
  request.mutable_start_time()->set_nanos(-5);
  invalid("start_time", request);

  request = good;
  request.clear_end_time();
  invalid("end_time", request);
  request = good;
  *request.mutable_end_time() = request.start_time();
  invalid("end_time", request);
  request = good;
  *request.mutable_end_time() = TimeToProto(T("2024-12-31"));
  invalid("end_time", request);

  request = good;
  request.set_interval(v1::SERIES_INTERVAL_UNSPECIFIED);
  invalid("interval", request);
  request = good;
  request.set_interval(static_cast<v1::SeriesInterval>(42));
  invalid("interval", request);

  // At most 1,000 points: 1,000 days are fine, 1,001 are not.
  request = SeriesRequest("", T("2025-01-01"),
                          T("2025-01-01") + absl::Hours(24 * 1000),
                          v1::SERIES_INTERVAL_DAY);
  ASSERT_TRUE(GetSeries(request, &response).ok());
  EXPECT_EQ(response.points_size(), 1000);
  *request.mutable_end_time() =
      TimeToProto(T("2025-01-01") + absl::Hours(24 * 1000) + absl::Seconds(1));
  const grpc::Status too_many = GetSeries(request, &response);
  ExpectInvalidField(too_many, "end_time");
  EXPECT_THAT(too_many.error_message(), HasSubstr("1000"));

  request = good;
  request.set_data_source_uuid("ds_aaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(GetSeries(request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ---- Customer.mrr on ListCustomers without as_of ---------------------------

TEST_F(MetricsServiceTest, ListCustomersWithoutAsOfShowsTheStoredMrrNow) {
  // Every customer's "currency cents" list, all pages (two per page).
  const auto listed = [this](const std::string& source) {
    std::map<std::string, std::string> out;
    v1::ListCustomersRequest request;
    request.set_data_source_uuid(source);
    request.set_page_size(2);
    for (int pages = 0; pages < 10; ++pages) {
      grpc::ClientContext context;
      v1::ListCustomersResponse response;
      grpc::Status status =
          customers_->ListCustomers(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      for (const v1::Customer& customer : response.customers()) {
        std::string mrr;
        for (const v1::MrrAmount& amount : customer.mrr()) {
          absl::StrAppend(&mrr, mrr.empty() ? "" : " ", amount.currency(),
                          " ", amount.mrr_in_cents());
        }
        out[Name(customer.uuid())] = mrr;
      }
      if (!status.ok() || response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  };
  // Now is 2025-06-01: alice cancelled, bob past due (still counted), carol
  // within her year, dave a lead.
  EXPECT_THAT(listed(""),
              ElementsAre(Pair("alice", ""), Pair("bob", "EUR 10000"),
                          Pair("carol", "USD 10000"), Pair("dave", "")));
  EXPECT_THAT(listed(source_a_),
              ElementsAre(Pair("alice", ""), Pair("bob", "EUR 10000")));

  // The amounts are those at now, as GetMrr's.
  server_.clock().Set(T("2025-02-10"));
  EXPECT_THAT(listed(""),
              ElementsAre(Pair("alice", "EUR 4900"), Pair("bob", "EUR 10000"),
                          Pair("carol", "USD 10000"), Pair("dave", "")));
  server_.clock().Set(T("2025-01-15"));
  EXPECT_THAT(listed(""),
              ElementsAre(Pair("alice", "EUR 4900"), Pair("bob", ""),
                          Pair("carol", "USD 10000"), Pair("dave", "")));
}

}  // namespace
}  // namespace recurrent::service::testing
