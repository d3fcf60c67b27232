// CustomerService through a real server.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/test_server.h"

namespace recurrent::service {
namespace {

using ::recurrent::service::testing::TestEpoch;
using ::recurrent::service::testing::TestServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class CustomerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = CreateSource("Stripe");
    other_source_ = CreateSource("Custom import");
  }

  std::string CreateSource(const std::string& name) {
    grpc::ClientContext context;
    v1::CreateDataSourceRequest request;
    request.set_name(name);
    v1::DataSource source;
    grpc::Status status =
        settings_stub_->CreateDataSource(&context, request, &source);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return source.uuid();
  }

  grpc::Status Create(const v1::Customer& customer, v1::Customer* out) {
    grpc::ClientContext context;
    v1::CreateCustomerRequest request;
    *request.mutable_customer() = customer;
    return stub_->CreateCustomer(&context, request, out);
  }

  v1::Customer NewCustomer(const std::string& source,
                           const std::string& external_id) {
    v1::Customer customer;
    customer.set_data_source_uuid(source);
    customer.set_external_id(external_id);
    return customer;
  }

  v1::Customer MustCreate(const std::string& source,
                          const std::string& external_id,
                          const std::string& email = "") {
    v1::Customer customer = NewCustomer(source, external_id);
    customer.set_email(email);
    v1::Customer created;
    grpc::Status status = Create(customer, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status Get(const std::string& uuid, v1::Customer* out) {
    grpc::ClientContext context;
    v1::GetCustomerRequest request;
    request.set_uuid(uuid);
    return stub_->GetCustomer(&context, request, out);
  }

  grpc::Status List(v1::ListCustomersRequest request,
                    std::vector<v1::Customer>* out) {
    out->clear();
    for (int pages = 0; pages < 1000; ++pages) {
      grpc::ClientContext context;
      v1::ListCustomersResponse response;
      grpc::Status status = stub_->ListCustomers(&context, request, &response);
      if (!status.ok()) return status;
      out->insert(out->end(), response.customers().begin(),
                  response.customers().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return grpc::Status::OK;
  }

  std::vector<std::string> ListUuids(const v1::ListCustomersRequest& request) {
    std::vector<v1::Customer> customers;
    grpc::Status status = List(request, &customers);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> uuids;
    for (const v1::Customer& c : customers) uuids.push_back(c.uuid());
    return uuids;
  }

  TestServer server_;
  std::unique_ptr<v1::SourceSettingsService::Stub> settings_stub_ =
      server_.settings_stub();
  std::unique_ptr<v1::CustomerService::Stub> stub_ = server_.customer_stub();
  std::string source_;
  std::string other_source_;
};

TEST_F(CustomerServiceTest, CreateAndGet) {
  v1::Customer customer = NewCustomer(source_, "cus_ext_1");
  customer.set_name("Ada Lovelace");
  customer.set_email("ada@example.com");
  customer.set_company("Analytical Engines Ltd");
  customer.set_country("GB");
  customer.set_city("London");
  customer.set_zip("W1");
  *customer.mutable_free_trial_started_at() =
      TimeToProto(TestEpoch() - absl::Hours(24));
  v1::Customer created;
  ASSERT_TRUE(Create(customer, &created).ok());
  EXPECT_THAT(created.uuid(), ::testing::StartsWith("cus_"));
  EXPECT_EQ(created.status(), v1::CUSTOMER_STATUS_LEAD);
  EXPECT_EQ(created.name(), "Ada Lovelace");
  EXPECT_EQ(created.country(), "GB");
  // lead_created_at takes free_trial_started_at when unset.
  EXPECT_EQ(created.lead_created_at().seconds(),
            created.free_trial_started_at().seconds());
  ASSERT_THAT(created.external_ids(), SizeIs(1));
  EXPECT_EQ(created.external_ids(0).data_source_uuid(), source_);
  EXPECT_EQ(created.external_ids(0).external_id(), "cus_ext_1");
  EXPECT_EQ(created.created_at().seconds(), absl::ToUnixSeconds(TestEpoch()));

  v1::Customer got;
  ASSERT_TRUE(Get(created.uuid(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());
}

TEST_F(CustomerServiceTest, CreateErrorsChangeNothing) {
  MustCreate(source_, "taken");
  struct Case {
    std::string name;
    v1::Customer customer;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"duplicate", NewCustomer(source_, "taken"),
                   grpc::StatusCode::ALREADY_EXISTS, "taken"});
  cases.push_back({"unknown source",
                   NewCustomer("ds_unknownunknownunknow", "x"),
                   grpc::StatusCode::NOT_FOUND, "ds_unknownunknownunknow"});
  cases.push_back({"no source", NewCustomer("", "x"),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "customer.data_source_uuid"});
  cases.push_back({"no external id", NewCustomer(source_, ""),
                   grpc::StatusCode::INVALID_ARGUMENT, "customer.external_id"});
  v1::Customer bad_country = NewCustomer(source_, "x");
  bad_country.set_country("Germany");
  cases.push_back({"country", bad_country, grpc::StatusCode::INVALID_ARGUMENT,
                   "customer.country"});
  v1::Customer lower_country = NewCustomer(source_, "x");
  lower_country.set_country("XX");
  cases.push_back({"unassigned country", lower_country,
                   grpc::StatusCode::INVALID_ARGUMENT, "customer.country"});
  v1::Customer bad_email = NewCustomer(source_, "x");
  bad_email.set_email("not-an-email");
  cases.push_back({"email", bad_email, grpc::StatusCode::INVALID_ARGUMENT,
                   "customer.email"});
  v1::Customer bad_time = NewCustomer(source_, "x");
  bad_time.mutable_lead_created_at()->set_nanos(-1);
  cases.push_back({"time", bad_time, grpc::StatusCode::INVALID_ARGUMENT,
                   "customer.lead_created_at"});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::Customer out;
    grpc::Status status = Create(c.customer, &out);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  EXPECT_THAT(ListUuids(v1::ListCustomersRequest()), SizeIs(1));
}

TEST_F(CustomerServiceTest, SameExternalIdInAnotherSourceIsFine) {
  MustCreate(source_, "c1");
  MustCreate(other_source_, "c1");
  EXPECT_THAT(ListUuids(v1::ListCustomersRequest()), SizeIs(2));
}

TEST_F(CustomerServiceTest, GetErrors) {
  v1::Customer out;
  EXPECT_EQ(Get("cus_missingmissingmissin", &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("", &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Get(source_, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CustomerServiceTest, UpdateWithMask) {
  v1::Customer created = MustCreate(source_, "c1", "old@example.com");
  server_.clock().Advance(absl::Minutes(1));

  grpc::ClientContext context;
  v1::UpdateCustomerRequest request;
  request.mutable_customer()->set_uuid(created.uuid());
  request.mutable_customer()->set_email("new@example.com");
  request.mutable_customer()->set_name("ignored: not in the mask");
  request.mutable_update_mask()->add_paths("email");
  request.mutable_update_mask()->add_paths("company");  // clears company
  v1::Customer updated;
  ASSERT_TRUE(stub_->UpdateCustomer(&context, request, &updated).ok());
  EXPECT_EQ(updated.email(), "new@example.com");
  EXPECT_EQ(updated.name(), "");
  EXPECT_EQ(updated.updated_at().seconds(),
            absl::ToUnixSeconds(TestEpoch() + absl::Minutes(1)));
  EXPECT_EQ(updated.created_at().seconds(), absl::ToUnixSeconds(TestEpoch()));

  // No mask: every populated writable field.
  grpc::ClientContext context2;
  v1::UpdateCustomerRequest implied;
  implied.mutable_customer()->set_uuid(created.uuid());
  implied.mutable_customer()->set_city("Berlin");
  *implied.mutable_customer()->mutable_free_trial_started_at() =
      TimeToProto(TestEpoch());
  ASSERT_TRUE(stub_->UpdateCustomer(&context2, implied, &updated).ok());
  EXPECT_EQ(updated.city(), "Berlin");
  EXPECT_EQ(updated.email(), "new@example.com");
  EXPECT_EQ(updated.lead_created_at().seconds(),
            absl::ToUnixSeconds(TestEpoch()));

  v1::Customer got;
  ASSERT_TRUE(Get(created.uuid(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), updated.SerializeAsString());

  // "*": every writable field is replaced; those left unset are cleared.
  grpc::ClientContext context3;
  v1::UpdateCustomerRequest all;
  all.mutable_customer()->set_uuid(created.uuid());
  all.mutable_customer()->set_name("Replaced");
  all.mutable_update_mask()->add_paths("*");
  ASSERT_TRUE(stub_->UpdateCustomer(&context3, all, &updated).ok());
  EXPECT_EQ(updated.name(), "Replaced");
  EXPECT_EQ(updated.email(), "");
  EXPECT_EQ(updated.city(), "");
  EXPECT_FALSE(updated.has_free_trial_started_at());
  EXPECT_FALSE(updated.has_lead_created_at());
}

TEST_F(CustomerServiceTest, UpdateErrorsChangeNothing) {
  v1::Customer created = MustCreate(source_, "c1", "a@example.com");
  struct Case {
    std::string name;
    std::vector<std::string> paths;
    std::string country;
    std::string uuid;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"status not writable",
       {"status"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "update_mask"},
      {"source not writable",
       {"email", "data_source_uuid"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "update_mask"},
      {"uuid not writable",
       {"uuid"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "update_mask"},
      {"status_reason not writable",
       {"status_reason"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "\"status_reason\" is not writable"},
      {"mrr not writable",
       {"mrr"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "\"mrr\" is not writable"},
      {"unknown field",
       {"favourite_colour"},
       "",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "favourite_colour"},
      {"bad value",
       {"email", "country"},
       "ZZ",
       created.uuid(),
       grpc::StatusCode::INVALID_ARGUMENT,
       "customer.country"},
      {"missing customer",
       {"email"},
       "",
       "cus_missingmissingmissin",
       grpc::StatusCode::NOT_FOUND,
       "cus_missingmissingmissin"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    v1::UpdateCustomerRequest request;
    request.mutable_customer()->set_uuid(c.uuid);
    request.mutable_customer()->set_email("changed@example.com");
    request.mutable_customer()->set_country(c.country);
    for (const std::string& path : c.paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    v1::Customer out;
    grpc::Status status = stub_->UpdateCustomer(&context, request, &out);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  v1::Customer got;
  ASSERT_TRUE(Get(created.uuid(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());
}

TEST_F(CustomerServiceTest, Delete) {
  v1::Customer created = MustCreate(source_, "c1");
  grpc::ClientContext context;
  v1::DeleteCustomerRequest request;
  request.set_uuid(created.uuid());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteCustomer(&context, request, &empty).ok());
  v1::Customer out;
  EXPECT_EQ(Get(created.uuid(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext again;
  EXPECT_EQ(stub_->DeleteCustomer(&again, request, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The external id is free again.
  MustCreate(source_, "c1");
}

TEST_F(CustomerServiceTest, ListFiltersCombine) {
  const std::string a = MustCreate(source_, "a", "shared@example.com").uuid();
  const std::string b = MustCreate(source_, "b", "b@example.com").uuid();
  const std::string c =
      MustCreate(other_source_, "a", "shared@example.com").uuid();

  EXPECT_THAT(ListUuids(v1::ListCustomersRequest()), ElementsAre(a, b, c));

  v1::ListCustomersRequest by_source;
  by_source.set_data_source_uuid(source_);
  EXPECT_THAT(ListUuids(by_source), ElementsAre(a, b));

  v1::ListCustomersRequest by_external_id;
  by_external_id.set_external_id("a");
  EXPECT_THAT(ListUuids(by_external_id), ElementsAre(a, c));
  by_external_id.set_data_source_uuid(other_source_);
  EXPECT_THAT(ListUuids(by_external_id), ElementsAre(c));

  v1::ListCustomersRequest by_email;
  by_email.set_email("shared@example.com");
  EXPECT_THAT(ListUuids(by_email), ElementsAre(a, c));
  by_email.set_data_source_uuid(source_);
  EXPECT_THAT(ListUuids(by_email), ElementsAre(a));

  v1::ListCustomersRequest by_status;
  by_status.set_status(v1::CUSTOMER_STATUS_LEAD);
  EXPECT_THAT(ListUuids(by_status), ElementsAre(a, b, c));
  by_status.set_status(v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_THAT(ListUuids(by_status), IsEmpty());

  v1::ListCustomersRequest unknown_source;
  unknown_source.set_data_source_uuid("ds_unknownunknownunknow");
  std::vector<v1::Customer> out;
  EXPECT_EQ(List(unknown_source, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(CustomerServiceTest, ListPaginationSurvivesInserts) {
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    expected.push_back(MustCreate(source_, "c" + std::to_string(i)).uuid());
  }
  std::vector<std::string> seen;
  v1::ListCustomersRequest request;
  request.set_page_size(10);
  int pages = 0;
  while (true) {
    grpc::ClientContext context;
    v1::ListCustomersResponse response;
    ASSERT_TRUE(stub_->ListCustomers(&context, request, &response).ok());
    EXPECT_LE(response.customers_size(), 10);
    for (const v1::Customer& c : response.customers()) seen.push_back(c.uuid());
    ++pages;
    if (response.next_page_token().empty()) break;
    // A customer created between pages comes after the ones already seen.
    expected.push_back(
        MustCreate(source_, "late" + std::to_string(pages)).uuid());
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, expected);

  // Oversized pages are clamped, not refused.
  grpc::ClientContext context;
  v1::ListCustomersRequest huge;
  huge.set_page_size(1000000);
  v1::ListCustomersResponse response;
  ASSERT_TRUE(stub_->ListCustomers(&context, huge, &response).ok());
  EXPECT_EQ(response.customers_size(), static_cast<int>(expected.size()));
}

TEST_F(CustomerServiceTest, ListRejectsForeignPageToken) {
  for (int i = 0; i < 3; ++i) MustCreate(source_, "c" + std::to_string(i));
  grpc::ClientContext context;
  v1::ListCustomersRequest request;
  request.set_page_size(1);
  v1::ListCustomersResponse response;
  ASSERT_TRUE(stub_->ListCustomers(&context, request, &response).ok());
  ASSERT_FALSE(response.next_page_token().empty());

  grpc::ClientContext context2;
  v1::ListCustomersRequest other_query;
  other_query.set_email("a@example.com");
  other_query.set_page_token(response.next_page_token());
  grpc::Status status = stub_->ListCustomers(&context2, other_query, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
}

TEST_F(CustomerServiceTest, MergeAcrossSources) {
  v1::Customer from = NewCustomer(other_source_, "legacy-7");
  *from.mutable_lead_created_at() = TimeToProto(TestEpoch() - absl::Hours(48));
  v1::Customer from_created;
  ASSERT_TRUE(Create(from, &from_created).ok());
  v1::Customer into = NewCustomer(source_, "stripe-7");
  *into.mutable_lead_created_at() = TimeToProto(TestEpoch() - absl::Hours(2));
  *into.mutable_free_trial_started_at() =
      TimeToProto(TestEpoch() - absl::Hours(1));
  v1::Customer into_created;
  ASSERT_TRUE(Create(into, &into_created).ok());
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest tags;
    tags.set_customer_uuid(from_created.uuid());
    tags.add_tags("vip");
    v1::Customer out;
    ASSERT_TRUE(stub_->AddCustomerTags(&context, tags, &out).ok());
  }

  grpc::ClientContext context;
  v1::MergeCustomersRequest request;
  request.set_from_customer_uuid(from_created.uuid());
  request.set_into_customer_uuid(into_created.uuid());
  v1::Customer merged;
  ASSERT_TRUE(stub_->MergeCustomers(&context, request, &merged).ok());
  EXPECT_EQ(merged.uuid(), into_created.uuid());
  ASSERT_THAT(merged.external_ids(), SizeIs(2));
  EXPECT_EQ(merged.external_ids(0).external_id(), "stripe-7");
  EXPECT_EQ(merged.external_ids(1).external_id(), "legacy-7");
  EXPECT_EQ(merged.external_ids(1).data_source_uuid(), other_source_);
  EXPECT_THAT(merged.tags(), ElementsAre("vip"));
  EXPECT_EQ(merged.lead_created_at().seconds(),
            absl::ToUnixSeconds(TestEpoch() - absl::Hours(48)));
  EXPECT_EQ(merged.free_trial_started_at().seconds(),
            absl::ToUnixSeconds(TestEpoch() - absl::Hours(1)));

  v1::Customer out;
  EXPECT_EQ(Get(from_created.uuid(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListCustomersRequest lookup;
  lookup.set_data_source_uuid(other_source_);
  lookup.set_external_id("legacy-7");
  EXPECT_THAT(ListUuids(lookup), ElementsAre(into_created.uuid()));
  // The merged external id stays taken.
  v1::Customer dup;
  EXPECT_EQ(Create(NewCustomer(other_source_, "legacy-7"), &dup).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(CustomerServiceTest, MergeErrors) {
  const std::string a = MustCreate(source_, "a").uuid();
  struct Case {
    std::string from, into;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {a, a, grpc::StatusCode::INVALID_ARGUMENT},
      {"", a, grpc::StatusCode::INVALID_ARGUMENT},
      {a, "cus_missingmissingmissin", grpc::StatusCode::NOT_FOUND},
      {"cus_missingmissingmissin", a, grpc::StatusCode::NOT_FOUND},
  };
  for (const Case& c : cases) {
    grpc::ClientContext context;
    v1::MergeCustomersRequest request;
    request.set_from_customer_uuid(c.from);
    request.set_into_customer_uuid(c.into);
    v1::Customer out;
    EXPECT_EQ(stub_->MergeCustomers(&context, request, &out).error_code(),
              c.code);
  }
  v1::Customer out;
  EXPECT_TRUE(Get(a, &out).ok());
}

TEST_F(CustomerServiceTest, Tags) {
  const std::string uuid = MustCreate(source_, "a").uuid();
  v1::Customer out;
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(uuid);
    request.add_tags("vip");
    request.add_tags("enterprise");
    request.add_tags("vip");
    ASSERT_TRUE(stub_->AddCustomerTags(&context, request, &out).ok());
    EXPECT_THAT(out.tags(), ElementsAre("enterprise", "vip"));
  }
  {
    grpc::ClientContext context;
    v1::RemoveCustomerTagsRequest request;
    request.set_customer_uuid(uuid);
    request.add_tags("vip");
    request.add_tags("never-there");
    ASSERT_TRUE(stub_->RemoveCustomerTags(&context, request, &out).ok());
    EXPECT_THAT(out.tags(), ElementsAre("enterprise"));
  }
  // The derived tag of R8 is not a user tag.
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(uuid);
    request.add_tags("ok");
    request.add_tags("auto-churned-delinquent-subscription");
    grpc::Status status = stub_->AddCustomerTags(&context, request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("tags[1]"));
  }
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(uuid);
    grpc::Status status = stub_->AddCustomerTags(&context, request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid("cus_missingmissingmissin");
    request.add_tags("x");
    EXPECT_EQ(stub_->AddCustomerTags(&context, request, &out).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  ASSERT_TRUE(Get(uuid, &out).ok());
  EXPECT_THAT(out.tags(), ElementsAre("enterprise"));
}

TEST_F(CustomerServiceTest, DeletingTheSourceDeletesItsCustomers) {
  const std::string only_here = MustCreate(other_source_, "x").uuid();
  const std::string elsewhere = MustCreate(source_, "y").uuid();
  grpc::ClientContext context;
  v1::DeleteDataSourceRequest request;
  request.set_uuid(other_source_);
  google::protobuf::Empty empty;
  ASSERT_TRUE(settings_stub_->DeleteDataSource(&context, request, &empty).ok());
  v1::Customer out;
  EXPECT_EQ(Get(only_here, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Get(elsewhere, &out).ok());
}

}  // namespace
}  // namespace recurrent::service
