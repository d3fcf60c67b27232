// Limits, through the public API (every backend). Storage faults are in
// sqlite_reliability_test.cc.
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"

namespace recurrent::service::testing {
namespace {

class ReliabilityTest : public ApiTest {
 protected:
  grpc::Status AddTags(const std::string& customer,
                       const std::vector<std::string>& tags,
                       v1::Customer* out = nullptr) {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(customer);
    for (const std::string& tag : tags) request.add_tags(tag);
    v1::Customer ignored;
    return customers_->AddCustomerTags(&context, request, out ? out : &ignored);
  }
};

TEST_F(ReliabilityTest, OversizedMessageIsResourceExhausted) {
  TestServerOptions options;
  options.max_message_bytes = 64 << 10;
  RestartWith(options);
  grpc::ClientContext context;
  v1::CreateDataSourceRequest request;
  request.set_name(std::string(100 << 10, 'x'));
  v1::DataSource source;
  grpc::Status status = settings_->CreateDataSource(&context, request, &source);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  // The server goes on serving.
  EXPECT_FALSE(CreateSource("after").empty());
}

TEST_F(ReliabilityTest, TagsPerCustomerAreCapped) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  std::vector<std::string> hundred;
  for (int i = 0; i < 100; ++i) hundred.push_back(absl::StrCat("t", i));
  ASSERT_TRUE(AddTags(customer, hundred).ok());
  // Re-adding existing tags is fine; one more is not, and adds nothing.
  EXPECT_TRUE(AddTags(customer, {"t0", "t99"}).ok());
  grpc::Status status = AddTags(customer, {"t0", "one-too-many"});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("at most 100 tags"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(ReasonOf(status), "TAG_LIMIT");
  EXPECT_EQ(ErrorInfoOf(status).metadata().at("limit"), "100");
  EXPECT_FALSE(RetryDelayOf(status).has_value());
  EXPECT_EQ(GetCustomer(customer).tags_size(), 100);
}

TEST_F(ReliabilityTest, OverlongPageTokenIsInvalidArgument) {
  grpc::ClientContext context;
  v1::ListCustomersRequest request;
  request.set_page_token(std::string(2000, 'a'));
  v1::ListCustomersResponse response;
  grpc::Status status = customers_->ListCustomers(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token"), std::string::npos);
}

}  // namespace
}  // namespace recurrent::service::testing
