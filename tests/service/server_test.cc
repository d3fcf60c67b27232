// The server as a whole: health service, deadlines and not-yet-implemented
// RPCs.
#include "service/server.h"

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/service/error_details.h"
#include "tests/service/test_server.h"
#include "tests/testing/backends.h"

namespace recurrent::service {
namespace {

using ::recurrent::service::testing::DetailsOf;
using ::recurrent::service::testing::ErrorInfoOf;
using ::recurrent::service::testing::ReasonOf;
using ::recurrent::service::testing::TestServer;

grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service,
                         grpc::health::v1::HealthCheckResponse* response) {
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  return grpc::health::v1::Health::NewStub(channel)->Check(&context, request,
                                                           response);
}

TEST(ServerTest, HealthServiceReportsServing) {
  TestServer server;
  for (const std::string service :
       {"", "recurrent.v1.CustomerService", "recurrent.v1.InvoiceService",
        "recurrent.v1.SourceSettingsService"}) {
    SCOPED_TRACE(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = CheckHealth(server.channel(), service, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(
      CheckHealth(server.channel(), "no.such.Service", &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST(ServerTest, BusyPortIsAnError) {
  TestServer a;
  // A second server over the same database file, on a's port.
  auto backend = ::recurrent::testing::DefaultTestBackend().open(
      a.db_path().parent_path().string());
  ASSERT_TRUE(backend.ok()) << backend.status();
  common::FakeClock clock(absl::UnixEpoch());
  ServerOptions options;
  options.listen_address = "127.0.0.1:" + std::to_string(a.server().port());
  auto b = Server::Start(options, backend->get(), &clock);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(b.status().message()),
              ::testing::HasSubstr(options.listen_address));
}

TEST(ServerTest, ExpiredDeadlineFailsWithoutWork) {
  TestServer server;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() -
                       std::chrono::seconds(1));
  v1::CreateDataSourceRequest request;
  request.set_name("too late");
  v1::DataSource source;
  EXPECT_EQ(server.settings_stub()
                ->CreateDataSource(&context, request, &source)
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  grpc::ClientContext list_context;
  v1::ListDataSourcesResponse list;
  ASSERT_TRUE(
      server.settings_stub()
          ->ListDataSources(&list_context, v1::ListDataSourcesRequest(), &list)
          .ok());
  EXPECT_EQ(list.data_sources_size(), 0);
}

TEST(ServerTest, InvalidArgumentCarriesABadRequestFieldViolation) {
  TestServer server;
  grpc::ClientContext context;
  v1::UpdateSettingsRequest request;
  request.set_data_source_uuid("ds_xxxxxxxxxxxxxxxxxxxx");
  request.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
  request.mutable_past_due_handling()->set_auto_churn_after_days(120);
  v1::UpdateSettingsResponse response;
  grpc::Status status =
      server.settings_stub()->UpdateSettings(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), 3);
  EXPECT_EQ(details.message(), status.error_message());
  // The ErrorInfo first (INVALID_FIELD), then the BadRequest.
  ASSERT_EQ(details.details_size(), 2);
  EXPECT_EQ(ReasonOf(status), "INVALID_FIELD");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("field"),
            "past_due_handling.auto_churn_after_days");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "past_due_handling.auto_churn_after_days");
  EXPECT_THAT(bad_request.field_violations(0).description(),
              ::testing::StartsWith("must be between 1 and 90"));
}

// Errors other than a field's carry an ErrorInfo, but no BadRequest.
TEST(ServerTest, OtherErrorsCarryErrorInfoButNoBadRequest) {
  TestServer server;
  grpc::ClientContext context;
  v1::GetDataSourceRequest request;
  request.set_uuid("ds_missingmissingmissin");
  v1::DataSource source;
  grpc::Status status =
      server.settings_stub()->GetDataSource(&context, request, &source);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  const google::rpc::Status details = DetailsOf(status);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(ReasonOf(status), "RESOURCE_NOT_FOUND");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("resource_type"), "data_source");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("resource_id"),
            "ds_missingmissingmissin");
}

}  // namespace
}  // namespace recurrent::service
