// What a hostile or careless client sends: control characters in names,
// ids and tags, the derived tag in another letter case, and the precision
// of the times it gets back (issue 13, points 7 and 9; the money bounds are
// in invoice_service_test.cc).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/api_fixture.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

}  // namespace
}  // namespace recurrent::service::testing
