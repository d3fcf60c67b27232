// Unit tests of recurrentctl's parts that need no server: the flag parser,
// value conversions, tables and exit codes; and the change-feed commands
// against a fake server that answers what a test needs.
// tests/e2e/recurrentctl_test.sh runs the whole client against a live
// server.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/cli/args.h"
#include "clients/cli/chart.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"
#include "clients/cli/views.h"
#include "common/clock.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "service/errors.h"

namespace recurrent::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::vector<FlagSpec> kSpecs = {{"status", "STATUS", "Status."},
                                      {"dry-run", "", "Dry run."},
                                      {"output", "FORMAT", "Output."},
                                      {"help", "", "Help."}};

TEST(ParseArgsTest, ReadsBothValueFormsBooleansAndPositionals) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(
      {"cus_1", "--status=past-due", "--output", "json", "--dry-run", "vip"},
      kSpecs);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("status"), "past-due");
  EXPECT_EQ(args->Get("output"), "json");
  EXPECT_TRUE(args->GetBool("dry-run"));
  EXPECT_FALSE(args->GetBool("help"));
  EXPECT_FALSE(args->Has("help"));
  EXPECT_THAT(args->positional(), ElementsAre("cus_1", "vip"));
}

TEST(ParseArgsTest, EmptyValueIsGiven) {
  absl::StatusOr<ParsedArgs> args = ParseArgs({"--status="}, kSpecs);
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->Has("status"));
  EXPECT_EQ(args->Get("status", "fallback"), "");
  EXPECT_EQ(args->Get("output", "table"), "table");
}

TEST(ParseArgsTest, BooleanTakesTrueOrFalseOnly) {
  EXPECT_FALSE(ParseArgs({"--dry-run=false"}, kSpecs)->GetBool("dry-run"));
  EXPECT_TRUE(ParseArgs({"--dry-run=yes"}, kSpecs)->GetBool("dry-run"));
  absl::StatusOr<ParsedArgs> bad = ParseArgs({"--dry-run=maybe"}, kSpecs);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--dry-run"));
}

TEST(ParseArgsTest, UnknownFlagAndMissingValueAreErrors) {
  absl::StatusOr<ParsedArgs> unknown = ParseArgs({"--bogus=1"}, kSpecs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown flag --bogus");
  absl::StatusOr<ParsedArgs> missing = ParseArgs({"--status"}, kSpecs);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("--status=STATUS"));
  EXPECT_FALSE(ParseArgs({"-x"}, kSpecs).ok());
}

TEST(ParseArgsTest, ShortFormsDashAndDoubleDash) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs({"-h", "-ojson", "-", "--", "--status=x"}, kSpecs);
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->GetBool("help"));
  EXPECT_EQ(args->Get("output"), "json");
  EXPECT_FALSE(args->Has("status"));
  EXPECT_THAT(args->positional(), ElementsAre("-", "--status=x"));
  EXPECT_EQ(ParseArgs({"-o", "json"}, kSpecs)->Get("output"), "json");
}

TEST(ParseArgsTest, StopsAtTheFirstPositionalWhenAsked) {
  size_t consumed = 0;
  absl::StatusOr<ParsedArgs> args =
      ParseArgs({"--output", "json", "customers", "list", "--status=x"}, kSpecs,
                /*stop_at_positional=*/true, &consumed);
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(args->Get("output"), "json");
  EXPECT_TRUE(args->positional().empty());
}

TEST(ParseIntFlagTest, NamesTheFlag) {
  EXPECT_EQ(*ParseIntFlag("limit", "12"), 12);
  EXPECT_EQ(*ParseInt64Flag("amount-cents", "-500"), -500);
  absl::StatusOr<int> bad = ParseIntFlag("limit", "ten");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--limit"));
}

// What "now" stands for in these tests (Session::Now() in the commands).
const absl::Time kNow =
    absl::FromUnixSeconds(1'800'000'000) + absl::Milliseconds(250);

TEST(TimeTest, ParsesDatesAndRfc3339) {
  absl::StatusOr<google::protobuf::Timestamp> day =
      ParseTimeFlag("as-of", "2025-03-01", kNow);
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->seconds(), 1740787200);  // 2025-03-01T00:00:00Z
  auto offset = ParseTimeFlag("as-of", "2025-03-01T02:00:00+02:00", kNow);
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(offset->seconds(), 1740787200);
  auto fraction = ParseTimeFlag("as-of", "2025-03-01T00:00:00.25Z", kNow);
  ASSERT_TRUE(fraction.ok());
  EXPECT_EQ(fraction->nanos(), 250000000);
}

TEST(TimeTest, NowIsTheSessionsClock) {
  absl::StatusOr<google::protobuf::Timestamp> now =
      ParseTimeFlag("at", "now", kNow);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->seconds(), 1'800'000'000);
  EXPECT_EQ(now->nanos(), 250'000'000);
}

TEST(TimeTest, RejectsOtherFormatsNamingTheFlag) {
  for (const char* bad :
       {"yesterday", "2025-3-1", "2025-03-01 10:00", "2025-02-30", ""}) {
    absl::StatusOr<google::protobuf::Timestamp> time =
        ParseTimeFlag("as-of", bad, kNow);
    ASSERT_FALSE(time.ok()) << bad;
    EXPECT_THAT(time.status().message(), HasSubstr("--as-of")) << bad;
  }
}

TEST(TimeTest, FormatsMidnightAsADate) {
  google::protobuf::Timestamp time;
  EXPECT_EQ(FormatTime(time), "");
  time.set_seconds(1740787200);
  EXPECT_EQ(FormatTime(time), "2025-03-01");
  time.set_seconds(1740787200 + 3600 + 61);
  time.set_nanos(5);
  EXPECT_EQ(FormatTime(time), "2025-03-01T01:01:01Z");
}

TEST(EnumTest, CustomerStatusAcceptsFriendlyAndProtoNames) {
  for (const char* name : {"past-due", "past_due", "PAST_DUE",
                           "CUSTOMER_STATUS_PAST_DUE", "Past-Due"}) {
    absl::StatusOr<v1::CustomerStatus> status =
        ParseCustomerStatus("status", name);
    ASSERT_TRUE(status.ok()) << name;
    EXPECT_EQ(*status, v1::CUSTOMER_STATUS_PAST_DUE) << name;
  }
  EXPECT_EQ(*ParseCustomerStatus("status", "lead"), v1::CUSTOMER_STATUS_LEAD);
  EXPECT_EQ(*ParseCustomerStatus("status", "active"),
            v1::CUSTOMER_STATUS_ACTIVE);
  EXPECT_EQ(*ParseCustomerStatus("status", "canceled"),
            v1::CUSTOMER_STATUS_CANCELLED);
  EXPECT_FALSE(ParseCustomerStatus("status", "unspecified").ok());
  EXPECT_FALSE(ParseCustomerStatus("status", "sleeping").ok());
}

TEST(EnumTest, SeriesIntervalAcceptsFriendlyAndProtoNames) {
  EXPECT_EQ(*ParseSeriesInterval("interval", "day"), v1::SERIES_INTERVAL_DAY);
  EXPECT_EQ(*ParseSeriesInterval("interval", "Week"), v1::SERIES_INTERVAL_WEEK);
  EXPECT_EQ(*ParseSeriesInterval("interval", "SERIES_INTERVAL_MONTH"),
            v1::SERIES_INTERVAL_MONTH);
  for (const char* bad : {"year", "", "unspecified", "monthly"}) {
    absl::StatusOr<v1::SeriesInterval> interval =
        ParseSeriesInterval("interval", bad);
    ASSERT_FALSE(interval.ok()) << bad;
    EXPECT_THAT(interval.status().message(),
                HasSubstr("--interval must be day, week or month"))
        << bad;
  }
}

TEST(EnumTest, FriendlyNames) {
  EXPECT_EQ(CustomerStatusName(v1::CUSTOMER_STATUS_PAST_DUE), "past-due");
  EXPECT_EQ(CustomerStatusName(v1::CUSTOMER_STATUS_UNSPECIFIED), "");
  EXPECT_EQ(SubscriptionStatusName(v1::SUBSCRIPTION_STATUS_CANCELLED),
            "cancelled");
  EXPECT_EQ(EventTypeName(v1::SUBSCRIPTION_EVENT_TYPE_AUTO_CHURNED),
            "auto-churned");
  EXPECT_EQ(TransactionTypeName(v1::TRANSACTION_TYPE_REFUND), "refund");
  EXPECT_EQ(MovementTypeName(v1::MRR_MOVEMENT_TYPE_NEW_BUSINESS),
            "new-business");
  EXPECT_EQ(MovementTypeName(v1::MRR_MOVEMENT_TYPE_CHURN), "churn");
  EXPECT_EQ(MovementTypeName(v1::MRR_MOVEMENT_TYPE_UNSPECIFIED), "");
  v1::PastDueHandling handling;
  handling.set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
  handling.set_auto_churn_after_days(1);
  EXPECT_EQ(HandlingName(handling), "auto-churn after 1 day");
  handling.set_auto_churn_after_days(14);
  EXPECT_EQ(HandlingName(handling), "auto-churn after 14 days");
  handling.set_mode(v1::PAST_DUE_MODE_KEEP);
  EXPECT_EQ(HandlingName(handling), "keep");
}

TEST(MoneyTest, FormatsCents) {
  EXPECT_EQ(FormatMoney(4900, "EUR"), "49.00 EUR");
  EXPECT_EQ(FormatMoney(5, "USD"), "0.05 USD");
  EXPECT_EQ(FormatMoney(-510, "USD"), "-5.10 USD");
  EXPECT_EQ(FormatMoney(123456, ""), "1234.56");
}

TEST(MoneyTest, FormatsAmountsInSeveralCurrencies) {
  google::protobuf::RepeatedPtrField<v1::MrrAmount> amounts;
  EXPECT_EQ(FormatMoneyList(amounts), "");
  v1::MrrAmount* eur = amounts.Add();
  eur->set_currency("EUR");
  eur->set_mrr_in_cents(4900);
  EXPECT_EQ(FormatMoneyList(amounts), "49.00 EUR");
  v1::MrrAmount* usd = amounts.Add();
  usd->set_currency("USD");
  usd->set_mrr_in_cents(-1250);
  EXPECT_EQ(FormatMoneyList(amounts), "49.00 EUR, -12.50 USD");
}

std::string Printed(const Table& table) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  table.Print(out);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(TableTest, AlignsColumnsAndMarksEmptyCells) {
  Table table({"UUID", "NAME", "TAGS"});
  table.AddRow({"cus_1", "Ada Lovelace", ""});
  table.AddRow({"cus_22", "Bö", "vip"});
  EXPECT_EQ(table.rows(), 2u);
  EXPECT_EQ(Printed(table),
            "UUID     NAME           TAGS\n"
            "cus_1    Ada Lovelace   -\n"
            "cus_22   Bö             vip\n");
}

TEST(TableTest, HeadersOnlyWhenEmpty) {
  Table table({"UUID", "NAME"});
  EXPECT_EQ(Printed(table), "UUID   NAME\n");
}

std::string Blocks(int n) {
  std::string blocks;
  for (int i = 0; i < n; ++i) blocks += "\u2588";
  return blocks;
}

std::string Spaces(int n) { return std::string(n, ' '); }

TEST(BarChartTest, ScalesTheLongestBarToTheRoomLeftInTheWidth) {
  // Width 30: labels 2 + values 5 + two gaps of 2 leave 19 columns.
  const std::vector<std::string> lines = {
      "a   " + Blocks(19) + "   1.00",
      // Half of 19 columns: 9 and a half (76 eighths).
      "bb  " + Blocks(9) + "\u258C" + Spaces(11) + "10.50",
      "c" + Spaces(25) + "0.00",
      // 1% of 152 eighths rounds to 2: a quarter block.
      "d   \u258E" + Spaces(21) + "0.01",
      "e" + Spaces(24) + "-0.05",
  };
  EXPECT_EQ(BarChart({{"a", 100, "1.00"},
                      {"bb", 50, "10.50"},
                      {"c", 0, "0.00"},
                      {"d", 1, "0.01"},
                      {"e", -5, "-0.05"}},
                     30),
            absl::StrJoin(lines, "\n") + "\n");
  EXPECT_EQ(BarChart({}), "");
}

TEST(BarChartTest, EveryPositiveValueShowsAndBarsKeepAMinimumRoom) {
  const std::string chart =
      BarChart({{std::string(70, 'x'), 1000000, "big"}, {"y", 1, "tiny"}});
  // No room is left in 60 columns: bars get kMinBarColumns all the same.
  EXPECT_EQ(chart, std::string(70, 'x') + "  " + Blocks(kMinBarColumns) +
                       "   big\n" + "y" + Spaces(71) + "\u258F" +
                       Spaces(kMinBarColumns + 1) + "tiny\n");
}

v1::MrrSeriesPoint* AddPoint(v1::GetMrrSeriesResponse* series,
                             int64_t start_seconds) {
  v1::MrrSeriesPoint* point = series->add_points();
  point->mutable_start_time()->set_seconds(start_seconds);
  return point;
}

v1::MrrSeriesTotal* AddTotal(v1::MrrSeriesPoint* point, const char* currency,
                             int64_t mrr) {
  v1::MrrSeriesTotal* total = point->add_totals();
  total->set_currency(currency);
  total->set_mrr_in_cents(mrr);
  return total;
}

// Three months: new business in EUR, then USD too, then a churn in EUR.
v1::GetMrrSeriesResponse ThreeMonths() {
  v1::GetMrrSeriesResponse series;
  v1::MrrSeriesPoint* january = AddPoint(&series, 1735689600);  // 2025-01-01
  AddTotal(january, "EUR", 4900)->set_new_business_in_cents(4900);
  january->set_active_customers(1);
  january->set_lead_customers(2);
  v1::MrrSeriesPoint* february = AddPoint(&series, 1738368000);
  AddTotal(february, "EUR", 9800)->set_expansion_in_cents(4900);
  AddTotal(february, "USD", 1000)->set_new_business_in_cents(1000);
  february->set_active_customers(2);
  february->set_lead_customers(1);
  v1::MrrSeriesPoint* march = AddPoint(&series, 1740787200);
  v1::MrrSeriesTotal* eur = AddTotal(march, "EUR", 0);
  eur->set_churn_in_cents(-9800);
  AddTotal(march, "USD", 1000);
  march->set_active_customers(1);
  march->set_cancelled_customers(1);
  march->set_lead_customers(1);
  return series;
}

TEST(MrrViewTest, SeriesTableHasARowPerPointListingItsCurrencies) {
  // A row per point; a cell lists the point's currencies.
  EXPECT_EQ(Printed(MrrSeriesTable(ThreeMonths())),
            "START        MRR                    NEW BUSINESS          "
            "EXPANSION             CONTRACTION          CHURN                  "
            "REACTIVATION         LEADS   ACTIVE   PAST DUE   CANCELLED\n"
            "2025-01-01   49.00 EUR              49.00 EUR             "
            "0.00 EUR              0.00 EUR             0.00 EUR               "
            "0.00 EUR             2       1        0          0\n"
            "2025-02-01   98.00 EUR, 10.00 USD   0.00 EUR, 10.00 USD   "
            "49.00 EUR, 0.00 USD   0.00 EUR, 0.00 USD   0.00 EUR, 0.00 USD     "
            "0.00 EUR, 0.00 USD   1       2        0          0\n"
            "2025-03-01   0.00 EUR, 10.00 USD    0.00 EUR, 0.00 USD    "
            "0.00 EUR, 0.00 USD    0.00 EUR, 0.00 USD   -98.00 EUR, 0.00 USD   "
            "0.00 EUR, 0.00 USD   1       1        0          1\n");
  v1::GetMrrSeriesResponse empty;
  AddPoint(&empty, 1735689600);
  EXPECT_THAT(Printed(MrrSeriesTable(empty)),
              HasSubstr("\n2025-01-01   -     -              -           -  "
                        "           -       -              0       0        0"
                        "          0\n"));
}

TEST(MrrViewTest, SeriesChartsOnePerCurrency) {
  const std::string charts = MrrSeriesCharts(ThreeMonths());
  // EUR: February is the longest bar; USD: a point without it counts 0.
  EXPECT_THAT(charts, HasSubstr("MRR EUR\n2025-01-01  "));
  EXPECT_THAT(charts, HasSubstr("\n\nMRR USD\n2025-01-01  "));
  const size_t usd = charts.find("MRR USD");
  ASSERT_NE(usd, std::string::npos);
  const std::string eur_chart = charts.substr(0, usd);
  const std::string usd_chart = charts.substr(usd);
  EXPECT_THAT(eur_chart, HasSubstr("   0.00 EUR\n\n"));
  EXPECT_THAT(usd_chart, HasSubstr("2025-01-01   "));
  EXPECT_THAT(usd_chart, HasSubstr("  0.00 USD\n2025-02-01  \u2588"));
  // Every line fits in kChartWidth columns (block characters are one each).
  for (absl::string_view line : absl::StrSplit(charts, '\n')) {
    int width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, kChartWidth) << line;
  }
  EXPECT_EQ(MrrSeriesCharts(v1::GetMrrSeriesResponse()), "");
}

TEST(MrrViewTest, TotalsAndMovements) {
  v1::GetMrrResponse mrr;
  v1::MrrTotal* eur = mrr.add_totals();
  eur->set_currency("EUR");
  eur->set_mrr_in_cents(14700);
  eur->set_active_mrr_in_cents(4900);
  eur->set_past_due_mrr_in_cents(9800);
  eur->set_active_customers(1);
  eur->set_past_due_customers(2);
  EXPECT_EQ(Printed(MrrTotalsTable(mrr)),
            "MRR          ACTIVE MRR   PAST-DUE MRR   ACTIVE CUSTOMERS   "
            "PAST-DUE CUSTOMERS\n"
            "147.00 EUR   49.00 EUR    98.00 EUR      1                  2\n");
  google::protobuf::RepeatedPtrField<v1::MrrMovement> movements;
  v1::MrrMovement* churn = movements.Add();
  churn->set_type(v1::MRR_MOVEMENT_TYPE_CHURN);
  churn->set_customer_uuid("cus_1");
  churn->set_data_source_uuid("ds_1");
  churn->set_currency("EUR");
  churn->mutable_occurred_at()->set_seconds(1740787200);
  churn->set_mrr_change_in_cents(-4900);
  EXPECT_EQ(
      Printed(MrrMovementsTable(movements)),
      "OCCURRED AT   TYPE    CUSTOMER   SOURCE   CHANGE       MRR AFTER\n"
      "2025-03-01    churn   cus_1      ds_1     -49.00 EUR   0.00 EUR\n");
}

TEST(ExitCodeTest, OneCodePerClass) {
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::OK), 0);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::INVALID_ARGUMENT), 3);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::OUT_OF_RANGE), 3);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::NOT_FOUND), 4);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::ALREADY_EXISTS), 5);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::FAILED_PRECONDITION), 6);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAVAILABLE), 7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::DEADLINE_EXCEEDED), 7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::RESOURCE_EXHAUSTED), 7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::INTERNAL), 8);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAUTHENTICATED), 9);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::PERMISSION_DENIED), 9);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNIMPLEMENTED), 8);
}

// The server's errors, as service::ToGrpcStatus makes them: "worth retrying"
// (7) follows RetryInfo, not the code.
TEST(ExitCodeTest, WorthRetryingFollowsRetryInfo) {
  const auto exit_code = [](const absl::Status& status) {
    const grpc::Status sent = service::ToGrpcStatus(status);
    return ExitCodeFor(sent.error_code(), DecodeErrorDetails(sent));
  };
  const auto with = [](absl::Status status, absl::string_view reason) {
    return common::WithReason(std::move(status), reason);
  };
  namespace reason = common::reason;
  // RetryInfo: 7, whatever the code.
  EXPECT_EQ(exit_code(with(absl::ResourceExhaustedError("x"),
                           reason::kOverloaded)),
            7);
  EXPECT_EQ(exit_code(with(absl::UnavailableError("x"), reason::kDatabaseBusy)),
            7);
  EXPECT_EQ(exit_code(with(absl::UnavailableError("x"),
                           reason::kDatabaseUnavailable)),
            7);
  EXPECT_EQ(
      exit_code(with(absl::UnavailableError("x"), reason::kShuttingDown)), 7);
  // No RetryInfo: not worth retrying, though the code once said so.
  EXPECT_EQ(
      exit_code(with(absl::UnavailableError("x"), reason::kDatabaseReplaced)),
      8);
  EXPECT_EQ(exit_code(with(absl::ResourceExhaustedError("x"),
                           reason::kDiskFull)),
            8);
  EXPECT_EQ(exit_code(with(absl::ResourceExhaustedError("x"),
                           reason::kTagLimit)),
            8);
  EXPECT_EQ(exit_code(absl::UnavailableError("x")), 8);
  // The other classes keep their codes.
  EXPECT_EQ(exit_code(with(absl::FailedPreconditionError("x"),
                           reason::kDatabaseReadOnly)),
            6);
  EXPECT_EQ(exit_code(service::InvalidField("f", "bad")), 3);
  EXPECT_EQ(exit_code(common::ResourceNotFound("customer", "cus_x")), 4);
  EXPECT_EQ(exit_code(absl::InternalError("x")), 8);
  EXPECT_EQ(exit_code(with(absl::UnauthenticatedError("x"),
                           reason::kApiKeyInvalid)),
            9);
  // No ErrorInfo: not the server's word (unreachable, --timeout, an older
  // server), so by code.
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAVAILABLE,
                        DecodeErrorDetails(grpc::Status(
                            grpc::StatusCode::UNAVAILABLE, "connect failed"))),
            7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::DEADLINE_EXCEEDED, ErrorDetails()),
            7);
}

TEST(ErrorDetailsTest, DecodesReasonMetadataRetryAndFields) {
  const grpc::Status overloaded =
      service::ToGrpcStatus(common::WithReason(
          absl::ResourceExhaustedError("x"), common::reason::kOverloaded,
          {{"flag", "--max_calls_in_flight"}}));
  const ErrorDetails details = DecodeErrorDetails(overloaded);
  EXPECT_TRUE(details.has_info);
  EXPECT_EQ(details.reason, "OVERLOADED");
  EXPECT_EQ(details.domain, "recurrent");
  EXPECT_THAT(details.metadata,
              ElementsAre(Pair("flag", "--max_calls_in_flight")));
  EXPECT_EQ(details.retry_delay, absl::Seconds(1));
  EXPECT_EQ(FormatRetryDelay(*details.retry_delay), "1s");
  EXPECT_EQ(FormatRetryDelay(absl::Milliseconds(1500)), "1.500s");

  const ErrorDetails field = DecodeErrorDetails(service::ToGrpcStatus(
      service::InvalidField("invoices[0].currency", "must be EUR")));
  EXPECT_EQ(field.reason, "INVALID_FIELD");
  EXPECT_FALSE(field.retry_delay.has_value());
  EXPECT_THAT(field.field_violations,
              ElementsAre(Pair("invoices[0].currency", "must be EUR")));

  EXPECT_FALSE(DecodeErrorDetails(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                               "connect failed"))
                   .has_info);
}

TEST(ErrorDetailsTest, JsonFormHasEveryPartInAFixedOrder) {
  const grpc::Status sent = service::ToGrpcStatus(common::WithReason(
      absl::ResourceExhaustedError("server is \"overloaded\""),
      common::reason::kOverloaded, {{"flag", "--max_calls_in_flight"}}));
  EXPECT_EQ(ErrorJson("RESOURCE_EXHAUSTED", sent.error_message(),
                      DecodeErrorDetails(sent), 7),
            "{\"error\":{\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"server is "
            "\\\"overloaded\\\"\",\"reason\":\"OVERLOADED\",\"domain\":"
            "\"recurrent\",\"metadata\":{\"flag\":\"--max_calls_in_flight\"},"
            "\"retryDelay\":\"1s\",\"retryable\":true,\"exitCode\":7}}");
  const grpc::Status field = service::ToGrpcStatus(
      service::InvalidField("customer.country", "must be 2 letters"));
  EXPECT_EQ(ErrorJson("INVALID_ARGUMENT", field.error_message(),
                      DecodeErrorDetails(field), 3),
            "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":"
            "\"customer.country: must be 2 letters\",\"reason\":"
            "\"INVALID_FIELD\",\"domain\":\"recurrent\",\"metadata\":{\"field\":"
            "\"customer.country\"},\"fieldViolations\":[{\"field\":"
            "\"customer.country\",\"description\":\"must be 2 letters\"}],"
            "\"retryable\":false,\"exitCode\":3}}");
  EXPECT_EQ(ErrorJson("UNAVAILABLE", "connect failed", ErrorDetails(), 7),
            "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"connect "
            "failed\",\"retryable\":true,\"exitCode\":7}}");
}

// A ChangeFeedService that answers from what the test put in it.
class FakeChangeFeed final : public v1::ChangeFeedService::Service {
 public:
  // ListChanges: the page for each after_cursor (otherwise an empty page
  // that stays at the cursor).
  std::map<std::string, v1::ListChangesResponse> pages;
  // WatchChanges: one per call, in order: the changes sent, then the status.
  struct Stream {
    std::vector<std::string> cursors;
    grpc::Status end;
    std::string resume;  // recurrent-resume-cursor, if not empty
  };
  std::deque<Stream> streams;

  // The after_cursor of each call, and when each watch arrived.
  std::vector<std::string> asked;
  std::vector<std::chrono::steady_clock::time_point> watched_at;

  grpc::Status ListChanges(grpc::ServerContext*,
                           const v1::ListChangesRequest* request,
                           v1::ListChangesResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    asked.push_back(request->after_cursor());
    auto it = pages.find(request->after_cursor());
    if (it != pages.end()) {
      *response = it->second;
    } else {
      response->set_next_cursor(request->after_cursor());
    }
    return grpc::Status::OK;
  }

  grpc::Status WatchChanges(grpc::ServerContext* context,
                            const v1::WatchChangesRequest* request,
                            grpc::ServerWriter<v1::Change>* writer) override {
    Stream stream;
    {
      std::lock_guard<std::mutex> lock(mu_);
      asked.push_back(request->after_cursor());
      watched_at.push_back(std::chrono::steady_clock::now());
      if (streams.empty()) return grpc::Status(grpc::StatusCode::INTERNAL, "");
      stream = streams.front();
      streams.pop_front();
    }
    for (const std::string& cursor : stream.cursors) {
      v1::Change change;
      change.set_cursor(cursor);
      change.set_type(v1::CHANGE_TYPE_CUSTOMER_STATUS_CHANGED);
      writer->Write(change);
    }
    if (!stream.resume.empty()) {
      context->AddTrailingMetadata("recurrent-resume-cursor", stream.resume);
    }
    return stream.end;
  }

 private:
  std::mutex mu_;
};

// Runs "changes VERB ARGS..." against `feed`; returns the exit code and
// what it printed on stdout.
std::pair<int, std::string> RunChanges(FakeChangeFeed& feed,
                                       const std::string& verb,
                                       const std::vector<std::string>& args) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&feed);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  GlobalOptions options;
  options.addr = absl::StrCat("127.0.0.1:", port);
  common::RealClock clock;
  Session session(options, "changes " + verb, clock);
  for (const Command& command : ChangeCommands()) {
    if (command.verb != verb) continue;
    absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, command.flags);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (!parsed.ok()) break;
    ::testing::internal::CaptureStdout();
    const int rc = command.run(session, *parsed);
    std::string out = ::testing::internal::GetCapturedStdout();
    server->Shutdown();
    return {rc, out};
  }
  ADD_FAILURE() << "no command changes " << verb;
  return {-1, ""};
}

std::string Cursor(int sequence) { return absl::StrFormat("%020d", sequence); }

TEST(ChangesCommandsTest, ListFollowsPagesThatSkippedEverything) {
  FakeChangeFeed feed;
  // The first page examined its rows and matched none (the filter), but
  // moved on; the change comes on the next.
  feed.pages[""].set_next_cursor(Cursor(5));
  v1::ListChangesResponse& second = feed.pages[Cursor(5)];
  second.add_changes()->set_cursor(Cursor(7));
  second.set_next_cursor(Cursor(7));
  const auto [rc, out] = RunChanges(feed, "list", {"--customer=cus_x"});
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(out, HasSubstr(Cursor(7)));
  // Until a page neither returns nor skips anything.
  EXPECT_THAT(feed.asked, ElementsAre("", Cursor(5), Cursor(7)));
}

TEST(ChangesCommandsTest, WatchResumesAfterTheServersDelayAndDropsRepeats) {
  FakeChangeFeed feed;
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::UNAVAILABLE);
  details.set_message("shutting down");
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  retry.mutable_retry_delay()->set_nanos(500'000'000);
  details.add_details()->PackFrom(retry);
  feed.streams.push_back(
      {{Cursor(1), Cursor(2)},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down",
                    details.SerializeAsString()),
       ""});
  // Resent from before the cursor asked for (at least once): 2 is dropped.
  feed.streams.push_back(
      {{Cursor(2), Cursor(3)},
       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the end"),
       ""});
  const auto [rc, out] = RunChanges(feed, "watch", {});
  EXPECT_EQ(rc, 3);  // the test's way to end the watch
  EXPECT_THAT(feed.asked, ElementsAre("", Cursor(2)));
  ASSERT_EQ(feed.watched_at.size(), 2u);
  EXPECT_GE(feed.watched_at[1] - feed.watched_at[0],
            std::chrono::milliseconds(1500));
  std::vector<std::string> printed;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    printed.emplace_back(line.substr(0, 20));
  }
  EXPECT_THAT(printed, ElementsAre(Cursor(1), Cursor(2), Cursor(3)));
}

// A watch the server ends says how far its filter examined the log; the
// next watch starts there, past the changes it skipped.
TEST(ChangesCommandsTest, WatchResumesAfterWhatItsFilterSkipped) {
  FakeChangeFeed feed;
  feed.streams.push_back(
      {{Cursor(5)},
       grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"),
       Cursor(40)});
  feed.streams.push_back(
      {{Cursor(41)},
       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the end"),
       ""});
  const auto [rc, out] = RunChanges(feed, "watch", {"--customer=cus_a"});
  EXPECT_EQ(rc, 3);  // the test's way to end the watch
  EXPECT_THAT(feed.asked, ElementsAre("", Cursor(40)));
  EXPECT_THAT(out, HasSubstr(Cursor(41)));
}

TEST(CommandsTest, EveryCommandHasHelpAndAnExample) {
  std::vector<Command> all;
  for (auto* list : {SourceCommands, CustomerCommands, InvoiceCommands,
                     SubscriptionCommands, ChangeCommands, MetricsCommands}) {
    for (Command& command : list()) all.push_back(std::move(command));
  }
  // Every RPC of recurrent.v1 but the keys, and customers describe.
  EXPECT_EQ(all.size(), 30u);
  for (const Command& command : all) {
    EXPECT_FALSE(command.summary.empty()) << command.Path();
    EXPECT_FALSE(command.examples.empty()) << command.Path();
    EXPECT_NE(command.run, nullptr) << command.Path();
    EXPECT_LE(command.min_args, command.max_args) << command.Path();
    for (const std::string& example : command.examples) {
      EXPECT_THAT(example, HasSubstr(command.Path())) << command.Path();
    }
  }
}

}  // namespace
}  // namespace recurrent::cli
