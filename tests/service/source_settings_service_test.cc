// SourceSettingsService through a real server: data sources and settings.
#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/test_server.h"

namespace recurrent::service {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::recurrent::service::testing::TestEpoch;
using ::recurrent::service::testing::TestServer;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class SourceSettingsServiceTest : public ::testing::Test {
 protected:
  grpc::Status CreateDataSource(const std::string& name, v1::DataSource* out,
                                const std::string& system = "") {
    grpc::ClientContext context;
    v1::CreateDataSourceRequest request;
    request.set_name(name);
    request.set_system(system);
    return stub_->CreateDataSource(&context, request, out);
  }

  v1::DataSource MustCreate(const std::string& name) {
    v1::DataSource source;
    grpc::Status status = CreateDataSource(name, &source);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return source;
  }

  grpc::Status UpdateSettings(const v1::UpdateSettingsRequest& request,
                              v1::UpdateSettingsResponse* response) {
    grpc::ClientContext context;
    return stub_->UpdateSettings(&context, request, response);
  }

  v1::UpdateSettingsRequest AutoChurn(const std::string& source, int days) {
    v1::UpdateSettingsRequest request;
    request.set_data_source_uuid(source);
    request.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
    request.mutable_past_due_handling()->set_auto_churn_after_days(days);
    return request;
  }

  v1::SourceSettings GetSettings(const std::string& source) {
    grpc::ClientContext context;
    v1::GetSettingsRequest request;
    request.set_data_source_uuid(source);
    v1::SourceSettings settings;
    grpc::Status status = stub_->GetSettings(&context, request, &settings);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return settings;
  }

  TestServer server_;
  std::unique_ptr<v1::SourceSettingsService::Stub> stub_ =
      server_.settings_stub();
};

TEST_F(SourceSettingsServiceTest, CreateDataSourceDefaultsAndSettingsV1) {
  v1::DataSource source;
  ASSERT_TRUE(CreateDataSource("Stripe EU", &source).ok());
  EXPECT_THAT(source.uuid(), ::testing::StartsWith("ds_"));
  EXPECT_EQ(source.name(), "Stripe EU");
  EXPECT_EQ(source.system(), "custom");
  EXPECT_EQ(source.created_at().seconds(), absl::ToUnixSeconds(TestEpoch()));
  EXPECT_EQ(source.settings().data_source_uuid(), source.uuid());
  EXPECT_EQ(source.settings().past_due_handling().mode(),
            v1::PAST_DUE_MODE_KEEP);
  EXPECT_EQ(source.settings().past_due_handling().auto_churn_after_days(), 0);
  EXPECT_EQ(source.settings().version(), 1);
  EXPECT_EQ(source.settings().applied_at().seconds(),
            source.created_at().seconds());

  v1::DataSource stripe;
  ASSERT_TRUE(CreateDataSource("Stripe US", &stripe, "stripe").ok());
  EXPECT_EQ(stripe.system(), "stripe");
}

TEST_F(SourceSettingsServiceTest, CreateDataSourceErrors) {
  MustCreate("Stripe");
  v1::DataSource source;
  grpc::Status status = CreateDataSource("Stripe", &source);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("Stripe"));

  status = CreateDataSource("  ", &source);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("name"));

  status = CreateDataSource(std::string(300, 'x'), &source);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Rejected requests changed nothing: still exactly one source.
  grpc::ClientContext context;
  v1::ListDataSourcesResponse list;
  ASSERT_TRUE(
      stub_->ListDataSources(&context, v1::ListDataSourcesRequest(), &list)
          .ok());
  EXPECT_THAT(list.data_sources(), SizeIs(1));
}

TEST_F(SourceSettingsServiceTest, GetDataSource) {
  v1::DataSource created = MustCreate("Chargebee");
  {
    grpc::ClientContext context;
    v1::GetDataSourceRequest request;
    request.set_uuid(created.uuid());
    v1::DataSource got;
    ASSERT_TRUE(stub_->GetDataSource(&context, request, &got).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(got, created))
        << got.DebugString() << " vs " << created.DebugString();
  }
  {
    grpc::ClientContext context;
    v1::GetDataSourceRequest request;
    request.set_uuid("ds_doesnotexistdoesnote");
    v1::DataSource got;
    EXPECT_EQ(stub_->GetDataSource(&context, request, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::GetDataSourceRequest request;  // no uuid
    v1::DataSource got;
    grpc::Status status = stub_->GetDataSource(&context, request, &got);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("uuid"));
  }
  {
    grpc::ClientContext context;
    v1::GetDataSourceRequest request;
    request.set_uuid("cus_23232323232323232323");  // wrong kind of id
    v1::DataSource got;
    EXPECT_EQ(stub_->GetDataSource(&context, request, &got).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(SourceSettingsServiceTest, ListDataSourcesPaginates) {
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) {
    created.insert(MustCreate("source-" + std::to_string(i)).uuid());
  }
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListDataSourcesRequest request;
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListDataSourcesResponse response;
    ASSERT_TRUE(stub_->ListDataSources(&context, request, &response).ok());
    EXPECT_LE(response.data_sources_size(), 3);
    for (const v1::DataSource& source : response.data_sources()) {
      EXPECT_TRUE(seen.insert(source.uuid()).second) << "duplicate";
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);

  grpc::ClientContext context;
  v1::ListDataSourcesRequest request;
  request.set_page_size(-1);
  v1::ListDataSourcesResponse response;
  grpc::Status status = stub_->ListDataSources(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_size"));

  grpc::ClientContext context2;
  request.set_page_size(0);
  request.set_page_token("garbage!");
  status = stub_->ListDataSources(&context2, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
}

TEST_F(SourceSettingsServiceTest, DeleteDataSource) {
  v1::DataSource source = MustCreate("Recurly");
  grpc::ClientContext context;
  v1::DeleteDataSourceRequest request;
  request.set_uuid(source.uuid());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteDataSource(&context, request, &empty).ok());

  grpc::ClientContext again;
  EXPECT_EQ(stub_->DeleteDataSource(&again, request, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext get;
  v1::GetSettingsRequest settings_request;
  settings_request.set_data_source_uuid(source.uuid());
  v1::SourceSettings settings;
  EXPECT_EQ(stub_->GetSettings(&get, settings_request, &settings).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The name is free again.
  MustCreate("Recurly");
}

TEST_F(SourceSettingsServiceTest, UpdateSettingsAppliesAndBumpsVersion) {
  v1::DataSource source = MustCreate("Stripe");
  server_.clock().Advance(absl::Hours(1));
  v1::UpdateSettingsResponse response;
  ASSERT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 14), &response).ok());
  EXPECT_TRUE(response.applied());
  EXPECT_EQ(response.settings().version(), 2);
  EXPECT_EQ(response.settings().past_due_handling().mode(),
            v1::PAST_DUE_MODE_AUTO_CHURN);
  EXPECT_EQ(response.settings().past_due_handling().auto_churn_after_days(),
            14);
  EXPECT_EQ(response.settings().applied_at().seconds(),
            absl::ToUnixSeconds(TestEpoch() + absl::Hours(1)));

  v1::SourceSettings current = GetSettings(source.uuid());
  EXPECT_TRUE(MessageDifferencer::Equals(current, response.settings()));

  // effective_at in the past becomes applied_at.
  v1::UpdateSettingsRequest request = AutoChurn(source.uuid(), 30);
  *request.mutable_effective_at() = TimeToProto(TestEpoch());
  ASSERT_TRUE(UpdateSettings(request, &response).ok());
  EXPECT_EQ(response.settings().version(), 3);
  EXPECT_EQ(response.settings().applied_at().seconds(),
            absl::ToUnixSeconds(TestEpoch()));

  // Back to KEEP.
  v1::UpdateSettingsRequest keep;
  keep.set_data_source_uuid(source.uuid());
  keep.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_KEEP);
  ASSERT_TRUE(UpdateSettings(keep, &response).ok());
  EXPECT_EQ(response.settings().version(), 4);
  EXPECT_EQ(GetSettings(source.uuid()).past_due_handling().mode(),
            v1::PAST_DUE_MODE_KEEP);
}

TEST_F(SourceSettingsServiceTest, SavingTheSameSettingsIsANoOp) {
  v1::DataSource source = MustCreate("Stripe");
  v1::UpdateSettingsResponse response;
  ASSERT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 14), &response).ok());
  ASSERT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 14), &response).ok());
  EXPECT_FALSE(response.applied());
  EXPECT_EQ(response.settings().version(), 2);

  // With an explicit effective_at it is a new version.
  v1::UpdateSettingsRequest request = AutoChurn(source.uuid(), 14);
  *request.mutable_effective_at() = TimeToProto(TestEpoch());
  ASSERT_TRUE(UpdateSettings(request, &response).ok());
  EXPECT_TRUE(response.applied());
  EXPECT_EQ(response.settings().version(), 3);
}

TEST_F(SourceSettingsServiceTest, DryRunChangesNothing) {
  v1::DataSource source = MustCreate("Stripe");
  v1::UpdateSettingsRequest request = AutoChurn(source.uuid(), 30);
  request.set_dry_run(true);
  v1::UpdateSettingsResponse response;
  ASSERT_TRUE(UpdateSettings(request, &response).ok());
  EXPECT_FALSE(response.applied());
  // The response shows the version the change would be saved as.
  EXPECT_EQ(response.settings().version(), 2);
  EXPECT_EQ(response.settings().past_due_handling().mode(),
            v1::PAST_DUE_MODE_AUTO_CHURN);
  EXPECT_EQ(GetSettings(source.uuid()).version(), 1);
  EXPECT_EQ(GetSettings(source.uuid()).past_due_handling().mode(),
            v1::PAST_DUE_MODE_KEEP);
}

TEST_F(SourceSettingsServiceTest, UpdateSettingsValidation) {
  v1::DataSource source = MustCreate("Stripe");
  struct Case {
    std::string name;
    v1::UpdateSettingsRequest request;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({"days 0", AutoChurn(source.uuid(), 0),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "past_due_handling.auto_churn_after_days"});
  cases.push_back({"days 91", AutoChurn(source.uuid(), 91),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "past_due_handling.auto_churn_after_days"});
  cases.push_back({"days -3", AutoChurn(source.uuid(), -3),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "past_due_handling.auto_churn_after_days"});
  {
    v1::UpdateSettingsRequest keep_with_days;
    keep_with_days.set_data_source_uuid(source.uuid());
    keep_with_days.mutable_past_due_handling()->set_mode(
        v1::PAST_DUE_MODE_KEEP);
    keep_with_days.mutable_past_due_handling()->set_auto_churn_after_days(5);
    cases.push_back({"keep with days", keep_with_days,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     "past_due_handling.auto_churn_after_days"});
  }
  {
    v1::UpdateSettingsRequest unspecified;
    unspecified.set_data_source_uuid(source.uuid());
    unspecified.mutable_past_due_handling();
    cases.push_back({"mode unspecified", unspecified,
                     grpc::StatusCode::INVALID_ARGUMENT,
                     "past_due_handling.mode"});
  }
  {
    v1::UpdateSettingsRequest missing;
    missing.set_data_source_uuid(source.uuid());
    cases.push_back({"no handling", missing, grpc::StatusCode::INVALID_ARGUMENT,
                     "past_due_handling"});
  }
  {
    v1::UpdateSettingsRequest future = AutoChurn(source.uuid(), 14);
    *future.mutable_effective_at() =
        TimeToProto(TestEpoch() + absl::Seconds(1));
    cases.push_back({"future effective_at", future,
                     grpc::StatusCode::INVALID_ARGUMENT, "effective_at"});
  }
  cases.push_back({"unknown source", AutoChurn("ds_nopenopenopenopenope", 14),
                   grpc::StatusCode::NOT_FOUND, "ds_nopenopenopenopenope"});
  cases.push_back({"missing source", AutoChurn("", 14),
                   grpc::StatusCode::INVALID_ARGUMENT, "data_source_uuid"});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::UpdateSettingsResponse response;
    grpc::Status status = UpdateSettings(c.request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
  // A rejected request changes nothing.
  v1::SourceSettings settings = GetSettings(source.uuid());
  EXPECT_EQ(settings.version(), 1);
  EXPECT_EQ(settings.past_due_handling().mode(), v1::PAST_DUE_MODE_KEEP);

  // The boundaries are accepted.
  v1::UpdateSettingsResponse response;
  EXPECT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 1), &response).ok());
  EXPECT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 90), &response).ok());
}

TEST_F(SourceSettingsServiceTest, ListSettingsHistory) {
  v1::DataSource source = MustCreate("Stripe");
  v1::UpdateSettingsResponse response;
  server_.clock().Advance(absl::Minutes(5));
  ASSERT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 7), &response).ok());
  server_.clock().Advance(absl::Minutes(5));
  ASSERT_TRUE(UpdateSettings(AutoChurn(source.uuid(), 21), &response).ok());

  grpc::ClientContext context;
  v1::ListSettingsHistoryRequest request;
  request.set_data_source_uuid(source.uuid());
  v1::ListSettingsHistoryResponse history;
  ASSERT_TRUE(stub_->ListSettingsHistory(&context, request, &history).ok());
  ASSERT_THAT(history.versions(), SizeIs(3));
  EXPECT_EQ(history.versions(0).settings().version(), 1);
  EXPECT_EQ(history.versions(0).settings().past_due_handling().mode(),
            v1::PAST_DUE_MODE_KEEP);
  EXPECT_EQ(history.versions(1)
                .settings()
                .past_due_handling()
                .auto_churn_after_days(),
            7);
  EXPECT_EQ(history.versions(2).settings().version(), 3);
  EXPECT_EQ(history.versions(2).saved_at().seconds(),
            absl::ToUnixSeconds(TestEpoch() + absl::Minutes(10)));

  grpc::ClientContext missing;
  request.set_data_source_uuid("ds_missingmissingmissin");
  EXPECT_EQ(
      stub_->ListSettingsHistory(&missing, request, &history).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace recurrent::service
