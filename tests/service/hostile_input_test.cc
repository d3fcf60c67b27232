// What a hostile or careless client sends: control characters in names,
// ids and tags, the derived tag in another letter case, and the precision
// of the times it gets back, bytes that are not a request at all (issue
// 13, points 7, 8 and 9; the money bounds are
// in invoice_service_test.cc).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "grpc/grpc.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "gtest/gtest.h"
#include "service/request_parse_interceptor.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class HostileInputTest : public ApiTest {};

// Text a terminal, a log line or a CSV export would be hurt by.
const std::vector<std::string>& ControlStrings() {
  static const auto* const kStrings = new std::vector<std::string>{
      std::string("a\0b", 3), "line\nbreak", "carriage\rreturn",
      "\x1b[31mred\x1b[0m",   "tab\there",   "del\x7f"};
  return *kStrings;
}

TEST_F(HostileInputTest, ControlCharactersAreRefusedWhereverTextIsStored) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  for (const std::string& bad : ControlStrings()) {
    SCOPED_TRACE(bad);
    {
      grpc::ClientContext context;
      v1::CreateDataSourceRequest request;
      request.set_name(bad);
      v1::DataSource out;
      const grpc::Status status =
          settings_->CreateDataSource(&context, request, &out);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr("control characters"));
    }
    for (const char* field : {"external_id", "name", "city"}) {
      grpc::ClientContext context;
      v1::CreateCustomerRequest request;
      request.mutable_customer()->set_data_source_uuid(source);
      request.mutable_customer()->set_external_id("ok");
      if (std::string(field) == "external_id") {
        request.mutable_customer()->set_external_id(bad);
      } else if (std::string(field) == "name") {
        request.mutable_customer()->set_name(bad);
      } else {
        request.mutable_customer()->set_city(bad);
      }
      v1::Customer out;
      const grpc::Status status =
          customers_->CreateCustomer(&context, request, &out);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(),
                  HasSubstr(std::string("customer.") + field));
    }
    {
      grpc::ClientContext context;
      v1::AddCustomerTagsRequest request;
      request.set_customer_uuid(customer);
      request.add_tags(bad);
      v1::Customer out;
      const grpc::Status status =
          customers_->AddCustomerTags(&context, request, &out);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr("tags[0]"));
    }
    {
      InvoiceSpec spec = Monthly("sub-1", T("2025-01-01"), 1)[0];
      spec.external_id = bad;
      EXPECT_EQ(Import(customer, {spec}).error_code(),
                grpc::StatusCode::INVALID_ARGUMENT);
      spec = Monthly("sub-1", T("2025-01-01"), 1)[0];
      spec.subscription = bad;
      EXPECT_EQ(Import(customer, {spec}).error_code(),
                grpc::StatusCode::INVALID_ARGUMENT);
    }
    {
      grpc::ClientContext context;
      v1::GetCustomerRequest request;
      request.set_uuid("cus_" + bad);
      v1::Customer out;
      EXPECT_EQ(customers_->GetCustomer(&context, request, &out).error_code(),
                grpc::StatusCode::INVALID_ARGUMENT);
    }
  }
  // Nothing of it was stored.
  EXPECT_EQ(ListCustomerUuids(v1::CUSTOMER_STATUS_LEAD).size(), 1u);
  EXPECT_THAT(ListInvoices(customer), IsEmpty());
  EXPECT_THAT(GetCustomer(customer).tags(), IsEmpty());
}

TEST_F(HostileInputTest, IdsOfTheWrongShapeAndPaddedExternalIdsAreRefused) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  // An id is its prefix and 20 characters of a-z, 2-7: anything else is a
  // bad argument, not an id that happens not to exist.
  for (const std::string& bad :
       {std::string("cus_x"), customer + "a", customer.substr(0, 23) + "1",
        absl::AsciiStrToUpper(customer), source}) {
    SCOPED_TRACE(bad);
    grpc::ClientContext context;
    v1::GetCustomerRequest request;
    request.set_uuid(bad);
    v1::Customer out;
    const grpc::Status status =
        customers_->GetCustomer(&context, request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("uuid"));
    EXPECT_THAT(status.error_message(), HasSubstr("\"" + bad + "\""));
  }
  {
    grpc::ClientContext context;
    v1::GetCustomerRequest request;
    request.set_uuid(common::NewId(common::kCustomerIdPrefix));
    v1::Customer out;
    EXPECT_EQ(customers_->GetCustomer(&context, request, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // An external id with whitespace at either end would be another
  // customer's, invoice's or subscription's than the same id without it.
  for (const std::string padded : {" c1", "c1 ", " ",
                                   "\xc2\xa0"
                                   "c1",
                                   "c1\xe3\x80\x80",
                                   "\xe2\x80\x8b"
                                   "c1",
                                   "\xef\xbb\xbf"
                                   "c1"}) {
    SCOPED_TRACE(padded);
    {
      grpc::ClientContext context;
      v1::CreateCustomerRequest request;
      request.mutable_customer()->set_data_source_uuid(source);
      request.mutable_customer()->set_external_id(padded);
      v1::Customer out;
      const grpc::Status status =
          customers_->CreateCustomer(&context, request, &out);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr("customer.external_id"));
      EXPECT_THAT(status.error_message(), HasSubstr("whitespace"));
    }
    InvoiceSpec spec = Monthly("sub-1", T("2025-01-01"), 1)[0];
    spec.external_id = padded;
    EXPECT_EQ(Import(customer, {spec}).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    spec = Monthly("sub-1", T("2025-01-01"), 1)[0];
    spec.subscription = padded;
    EXPECT_EQ(Import(customer, {spec}).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    // A filter still takes it: rows stored before the check are found.
    grpc::ClientContext context;
    v1::ListCustomersRequest request;
    request.set_external_id(padded);
    v1::ListCustomersResponse out;
    EXPECT_TRUE(customers_->ListCustomers(&context, request, &out).ok());
    EXPECT_THAT(out.customers(), IsEmpty());
  }
  // Spaces inside, and other characters at the ends, are fine.
  for (const std::string fine : {"c 2",
                                 "\xc3\x84"
                                 "c3",
                                 "c4\xe2\x82\xac",
                                 "c\xc2\xa0"
                                 "5"}) {
    SCOPED_TRACE(fine);
    EXPECT_FALSE(CreateCustomer(source, fine).empty());
  }
  // Nothing of the refused was stored.
  EXPECT_EQ(ListCustomerUuids(v1::CUSTOMER_STATUS_LEAD).size(), 5u);
  EXPECT_THAT(ListInvoices(customer), IsEmpty());
}

// Whether `text` is well-formed UTF-8 (what a strict proto3 decoder checks
// in string fields).
bool IsUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80           ? 1
                          : (lead >> 5) == 0x6  ? 2
                          : (lead >> 4) == 0xe  ? 3
                          : (lead >> 3) == 0x1e ? 4
                                                : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

TEST_F(HostileInputTest, ErrorsQuoteInputWithoutBreakingItsCharacters) {
  // Refused values that errors quote cut to a few bytes: the cut falls
  // between two bytes of one character, which must not reach the message
  // or its details (strict clients refuse the details then).
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  std::string long_text = "a";
  for (int i = 0; i < 40; ++i) long_text += "\xc3\x84";  // Ä
  std::vector<grpc::Status> statuses;
  {
    grpc::ClientContext context;
    v1::CreateCustomerRequest request;
    request.mutable_customer()->set_data_source_uuid(source);
    request.mutable_customer()->set_external_id("c2");
    request.mutable_customer()->set_country(long_text);
    v1::Customer out;
    statuses.push_back(customers_->CreateCustomer(&context, request, &out));
  }
  {
    grpc::ClientContext context;
    v1::UpdateCustomerRequest request;
    request.mutable_customer()->set_uuid(customer);
    request.mutable_update_mask()->add_paths(long_text);
    v1::Customer out;
    statuses.push_back(customers_->UpdateCustomer(&context, request, &out));
  }
  for (const grpc::Status& status : statuses) {
    SCOPED_TRACE(status.error_message());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("\"a\xc3\x84"));
    EXPECT_TRUE(IsUtf8(status.error_message()));
    const google::rpc::Status details = DetailsOf(status);
    EXPECT_TRUE(IsUtf8(details.message()));
    google::rpc::BadRequest bad;
    for (const auto& any : details.details()) {
      if (any.UnpackTo(&bad)) break;
    }
    ASSERT_EQ(bad.field_violations_size(), 1);
    EXPECT_TRUE(IsUtf8(bad.field_violations(0).description()));
  }
}

TEST_F(HostileInputTest, TheDerivedTagIsReservedInAnyLetterCase) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  for (const char* tag : {"auto-churned-delinquent-subscription",
                          "AUTO-CHURNED-DELINQUENT-SUBSCRIPTION",
                          "Auto-Churned-Delinquent-Subscription",
                          " auto-churned-delinquent-subscription "}) {
    SCOPED_TRACE(tag);
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(customer);
    request.add_tags(tag);
    v1::Customer out;
    const grpc::Status status =
        customers_->AddCustomerTags(&context, request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("derived tag"));
  }
  EXPECT_THAT(GetCustomer(customer).tags(), IsEmpty());
}

TEST_F(HostileInputTest, TimesHaveOnePrecisionEverywhere) {
  // The fake clock has nanoseconds; what a call answers equals what a later
  // read of the same resource answers.
  server_.clock().Set(T("2025-03-01") + absl::Nanoseconds(123456789));
  grpc::ClientContext create_context;
  v1::CreateDataSourceRequest create;
  create.set_name("s");
  v1::DataSource created;
  ASSERT_TRUE(
      settings_->CreateDataSource(&create_context, create, &created).ok());
  grpc::ClientContext get_context;
  v1::GetDataSourceRequest get;
  get.set_uuid(created.uuid());
  v1::DataSource got;
  ASSERT_TRUE(settings_->GetDataSource(&get_context, get, &got).ok());
  EXPECT_EQ(created.DebugString(), got.DebugString());
  EXPECT_EQ(created.created_at().nanos() % 1000, 0);

  server_.clock().Advance(absl::Nanoseconds(987654321));
  grpc::ClientContext update_context;
  v1::UpdateSettingsRequest update;
  update.set_data_source_uuid(created.uuid());
  update.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
  update.mutable_past_due_handling()->set_auto_churn_after_days(14);
  v1::UpdateSettingsResponse updated;
  ASSERT_TRUE(
      settings_->UpdateSettings(&update_context, update, &updated).ok());
  grpc::ClientContext again_context;
  ASSERT_TRUE(settings_->GetDataSource(&again_context, get, &got).ok());
  EXPECT_EQ(updated.settings().DebugString(), got.settings().DebugString());
}

// Raw bytes that do not parse as the request message (issue 13, point 8):
// before, gRPC's callback API answered UNIMPLEMENTED with an empty message.
grpc::Status CallWithBytes(const std::shared_ptr<grpc::Channel>& channel,
                           const char* method, const std::string& bytes) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(),
      grpc::internal::RpcMethod(method, grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, &response);
}

TEST_F(HostileInputTest, UnparseableRequestsAreInvalidArgumentWithAMessage) {
  // Unknown groups (field 9, wire type 3) nested 200 deep: beyond
  // protobuf's recursion limit of 100.
  const std::string deep = std::string(200, '\x4b') + std::string(200, '\x4c');
  const struct {
    const char* what;
    const char* method;
    std::string bytes;
    const char* type;
  } kCases[] = {
      {"garbage", "/recurrent.v1.SourceSettingsService/GetDataSource",
       "\xff\xff\xff\xff", "recurrent.v1.GetDataSourceRequest"},
      {"invalid UTF-8", "/recurrent.v1.SourceSettingsService/GetDataSource",
       "\x0a\x02\xc3\x28", "recurrent.v1.GetDataSourceRequest"},
      {"truncated length", "/recurrent.v1.CustomerService/GetCustomer",
       "\x0a\x10" "ab", "recurrent.v1.GetCustomerRequest"},
      {"wrong wire type", "/recurrent.v1.InvoiceService/ImportInvoices",
       "\x0d\x01\x02\x03", "recurrent.v1.ImportInvoicesRequest"},
      {"nesting", "/recurrent.v1.CustomerService/GetCustomer", deep,
       "recurrent.v1.GetCustomerRequest"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.what);
    const grpc::Status status =
        CallWithBytes(server_.channel(), c.method, c.bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr(std::string("the request is not a valid ") + c.type));
    EXPECT_EQ(ReasonOf(status), "MALFORMED_REQUEST");
  }
  // The metrics record what the client got (before, the status gRPC made
  // of the unparseable request, before it was corrected).
  const std::string metrics = server_.server().metrics().Render();
  EXPECT_THAT(metrics,
              HasSubstr("recurrent_grpc_calls_total{method=\"/recurrent.v1."
                        "SourceSettingsService/GetDataSource\",code=\""
                        "INVALID_ARGUMENT\"} 2"));
  EXPECT_THAT(metrics, Not(HasSubstr("code=\"UNIMPLEMENTED\"")));
  EXPECT_THAT(metrics, Not(HasSubstr("code=\"INTERNAL\"")));
  // Valid bytes of the same methods still work.
  const std::string source = CreateSource("s");
  v1::GetDataSourceRequest valid;
  valid.set_uuid(source);
  EXPECT_TRUE(CallWithBytes(server_.channel(),
                            "/recurrent.v1.SourceSettingsService/GetDataSource",
                            valid.SerializeAsString())
                  .ok());
}

// A client may call any path: each would otherwise be a metric series (in
// every family) kept for the life of the process. Paths no linked .proto
// declares are all "unknown"; gRPC answers them UNIMPLEMENTED.
TEST_F(HostileInputTest, UnknownMethodsShareOneMetricLabel) {
  for (int i = 0; i < 20; ++i) {
    const std::string path =
        i % 2 == 0 ? absl::StrCat("/recurrent.v1.CustomerService/Nope", i)
                   : absl::StrCat("/random", i, ".Service/Method");
    EXPECT_EQ(CallWithBytes(server_.channel(), path.c_str(), "").error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  const std::string metrics = server_.server().metrics().Render();
  EXPECT_THAT(metrics, HasSubstr("recurrent_grpc_calls_total{method=\"unknown\""
                                 ",code=\"UNIMPLEMENTED\"} 20"));
  EXPECT_THAT(metrics, Not(HasSubstr("Nope")));
  EXPECT_THAT(metrics, Not(HasSubstr("random")));
}

// With --log_requests, gRPC's own health service (whose handler receives
// raw bytes, not a protobuf message) is logged like any call: before, the
// log read its request as a protobuf message.
TEST_F(HostileInputTest, RequestLogsMeasureHealthChecksAndUnknownMethods) {
  TestServerOptions options;
  options.log_requests = true;
  server_.Restart(options);
  ::testing::internal::CaptureStderr();
  const grpc::Status health =
      CallWithBytes(server_.channel(), "/grpc.health.v1.Health/Check",
                    std::string("\x0a\x00", 2));  // service: ""
  const grpc::Status unknown =
      CallWithBytes(server_.channel(), "/nope.Nope/Nope", "abc");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(health.ok()) << health.error_message();
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(log, HasSubstr("method=/grpc.health.v1.Health/Check"));
  EXPECT_THAT(log, HasSubstr("request_bytes=2"));
  EXPECT_THAT(log, HasSubstr("method=unknown"));
}

// libprotobuf's own complaints go through the server's log format.
TEST(ProtobufLogTest, LinesGoThroughTheServerLog) {
  RouteProtobufLogs();
  ::testing::internal::CaptureStderr();
  v1::GetDataSourceRequest request;
  EXPECT_FALSE(request.ParseFromString("\x0a\x02\xc3\x28"));
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(logged, HasSubstr(" error protobuf library message message="));
  EXPECT_THAT(logged, HasSubstr("invalid UTF-8"));
}

// And gRPC's.
TEST(GrpcLogTest, LinesGoThroughTheServerLog) {
  grpc_init();  // as in a server (gRPC logs nothing before)
  RouteGrpcLogs();
  ::testing::internal::CaptureStderr();
  gpr_log(GPR_ERROR, "%s", "a handshake failed");
  const std::string logged = ::testing::internal::GetCapturedStderr();
  grpc_shutdown();
  EXPECT_THAT(logged, HasSubstr(" error grpc library message message="));
  EXPECT_THAT(logged, HasSubstr("a handshake failed"));
}

}  // namespace
}  // namespace recurrent::service::testing
