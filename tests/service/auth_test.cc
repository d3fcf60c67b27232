// API keys and roles end to end: every role against representative RPCs of
// every class, UNAUTHENTICATED vs PERMISSION_DENIED without revealing
// whether a resource exists, revocation, hashed storage, and who saved
// settings or deleted things.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/backends.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "recurrent/v1/metrics.grpc.pb.h"
#include "service/access_control.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr grpc::StatusCode kUnauthenticated = grpc::StatusCode::UNAUTHENTICATED;
constexpr grpc::StatusCode kDenied = grpc::StatusCode::PERMISSION_DENIED;

// Who calls: no key, a key the server never issued, or one of each role.
enum class As { kNoKey, kUnknownKey, kReader, kWriter, kAdmin };

// A call with a given context; returns its status.
using Call = std::function<grpc::Status(grpc::ClientContext*)>;

class AuthTest : public ApiTest {
 protected:
  void SetUp() override {
    // Data first, while the server still runs without keys.
    source_ = CreateSource("Stripe");
    customer_ = CreateCustomer(source_, "cus-1");
    other_customer_ = CreateCustomer(source_, "cus-2");
    MustImport(customer_, Monthly("sub-1", T("2024-12-01"), 2));
    invoice_ = ListInvoices(customer_).at(0).uuid();

    reader_ = NewKey("reader-key", Role::kReader);
    writer_ = NewKey("writer-key", Role::kWriter);
    admin_ = NewKey("ops", Role::kAdmin);
    keys_ = server_.api_key_stub();
  }

  std::string NewKey(const std::string& name, Role role) {
    absl::StatusOr<CreatedKey> created =
        server_.server().access().CreateKey(name, role, server_.clock().Now());
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->secret : "";
  }

  std::string SecretOf(As as) const {
    switch (as) {
      case As::kNoKey:
        return "";
      case As::kUnknownKey:
        return "rk_0000000000000000000000000000000000000000000000000000000"
               "000000000";
      case As::kReader:
        return reader_;
      case As::kWriter:
        return writer_;
      case As::kAdmin:
        return admin_;
    }
    return "";
  }

  grpc::Status CallAs(As as, const Call& call) {
    grpc::ClientContext context;
    const std::string secret = SecretOf(as);
    if (!secret.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", secret));
    }
    return call(&context);
  }

  grpc::Status WithHeader(const std::string& value, const Call& call) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", value);
    return call(&context);
  }

  Call GetCustomerCall(const std::string& uuid) {
    return [this, uuid](grpc::ClientContext* context) {
      v1::GetCustomerRequest request;
      request.set_uuid(uuid);
      v1::Customer response;
      return customers_->GetCustomer(context, request, &response);
    };
  }
  Call DeleteCustomerCall(const std::string& uuid) {
    return [this, uuid](grpc::ClientContext* context) {
      v1::DeleteCustomerRequest request;
      request.set_uuid(uuid);
      google::protobuf::Empty response;
      return customers_->DeleteCustomer(context, request, &response);
    };
  }

  std::string source_;
  std::string customer_;
  std::string other_customer_;
  std::string invoice_;
  std::string reader_;
  std::string writer_;
  std::string admin_;
  std::unique_ptr<v1::ApiKeyService::Stub> keys_;
  std::unique_ptr<v1::ChangeFeedService::Stub> feed_ =
      v1::ChangeFeedService::NewStub(server_.channel());
  std::unique_ptr<v1::MetricsService::Stub> metrics_ =
      v1::MetricsService::NewStub(server_.channel());
};

// One representative RPC: the role it needs and what it returns when
// allowed.
struct Case {
  std::string name;
  Role needs;
  grpc::StatusCode allowed_code;
  Call call;
};

TEST_F(AuthTest, EveryRoleAgainstEveryClassOfRpc) {
  int serial = 0;
  auto unique = [&serial](const std::string& base) {
    return absl::StrCat(base, "-", ++serial);
  };
  const std::string missing_customer = "cus_aaaaaaaaaaaaaaaaaaaa";
  std::vector<Case> cases = {
      // Reads.
      {"GetDataSource", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::GetDataSourceRequest request;
         request.set_uuid(source_);
         v1::DataSource response;
         return settings_->GetDataSource(c, request, &response);
       }},
      {"ListSettingsHistory", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListSettingsHistoryRequest request;
         request.set_data_source_uuid(source_);
         v1::ListSettingsHistoryResponse response;
         return settings_->ListSettingsHistory(c, request, &response);
       }},
      {"GetCustomer", Role::kReader, grpc::StatusCode::OK,
       GetCustomerCall(customer_)},
      {"ListSubscriptionEvents", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListSubscriptionEventsRequest request;
         request.set_customer_uuid(customer_);
         v1::ListSubscriptionEventsResponse response;
         return customers_->ListSubscriptionEvents(c, request, &response);
       }},
      {"ListChanges", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListChangesRequest request;
         v1::ListChangesResponse response;
         return feed_->ListChanges(c, request, &response);
       }},
      {"WatchChanges", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         c->set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(300));
         v1::WatchChangesRequest request;
         auto reader = feed_->WatchChanges(c, request);
         v1::Change change;
         while (reader->Read(&change)) {
         }
         grpc::Status status = reader->Finish();
         // An allowed watch stays open until the client's deadline.
         return status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                    ? grpc::Status::OK
                    : status;
       }},
      {"ListInvoices", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListInvoicesRequest request;
         request.set_customer_uuid(customer_);
         v1::ListInvoicesResponse response;
         return invoices_->ListInvoices(c, request, &response);
       }},
      {"GetMrr", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::GetMrrRequest request;
         request.set_data_source_uuid(source_);
         v1::GetMrrResponse response;
         return metrics_->GetMrr(c, request, &response);
       }},
      {"ListMrrMovements", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListMrrMovementsRequest request;
         request.set_customer_uuid(customer_);
         v1::ListMrrMovementsResponse response;
         return metrics_->ListMrrMovements(c, request, &response);
       }},
      {"GetMrrSeries", Role::kReader, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::GetMrrSeriesRequest request;
         request.mutable_start_time()->set_seconds(
             absl::ToUnixSeconds(T("2024-12-01")));
         request.mutable_end_time()->set_seconds(
             absl::ToUnixSeconds(T("2025-02-01")));
         request.set_interval(v1::SERIES_INTERVAL_MONTH);
         v1::GetMrrSeriesResponse response;
         return metrics_->GetMrrSeries(c, request, &response);
       }},
      // Writes of customers, invoices, transactions, cancellations, tags.
      {"CreateCustomer", Role::kWriter, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::CreateCustomerRequest request;
         request.mutable_customer()->set_data_source_uuid(source_);
         request.mutable_customer()->set_external_id(unique("new"));
         v1::Customer response;
         return customers_->CreateCustomer(c, request, &response);
       }},
      {"AddCustomerTags", Role::kWriter, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::AddCustomerTagsRequest request;
         request.set_customer_uuid(customer_);
         request.add_tags("vip");
         v1::Customer response;
         return customers_->AddCustomerTags(c, request, &response);
       }},
      {"ImportInvoices", Role::kWriter, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ImportInvoicesRequest request;
         request.set_customer_uuid(customer_);
         InvoiceSpec spec{unique("inv"), unique("sub"), T("2025-01-01"),
                          T("2025-02-01")};
         *request.add_invoices() = MakeInvoice(spec);
         v1::ImportInvoicesResponse response;
         return invoices_->ImportInvoices(c, request, &response);
       }},
      {"AddTransaction", Role::kWriter, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::AddTransactionRequest request;
         request.set_invoice_uuid(invoice_);
         v1::Transaction* tr = request.mutable_transaction();
         tr->set_external_id(unique("tr"));
         tr->set_type(v1::TRANSACTION_TYPE_REFUND);
         tr->set_result(v1::TRANSACTION_RESULT_FAILED);
         tr->mutable_date()->set_seconds(absl::ToUnixSeconds(T("2024-12-20")));
         v1::Transaction response;
         return invoices_->AddTransaction(c, request, &response);
       }},
      {"CancelSubscription", Role::kWriter, grpc::StatusCode::NOT_FOUND,
       [&](grpc::ClientContext* c) {
         v1::CancelSubscriptionRequest request;
         request.set_subscription_uuid("sub_aaaaaaaaaaaaaaaaaaaa");
         v1::Subscription response;
         return customers_->CancelSubscription(c, request, &response);
       }},
      // Settings, reprocessing, deletes, merges, keys.
      {"CreateDataSource", Role::kAdmin, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::CreateDataSourceRequest request;
         request.set_name(unique("source"));
         v1::DataSource response;
         return settings_->CreateDataSource(c, request, &response);
       }},
      {"UpdateSettings", Role::kAdmin, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::UpdateSettingsRequest request;
         request.set_data_source_uuid(source_);
         request.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_KEEP);
         request.set_dry_run(true);
         v1::UpdateSettingsResponse response;
         return settings_->UpdateSettings(c, request, &response);
       }},
      {"ReprocessDataSource", Role::kAdmin, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ReprocessDataSourceRequest request;
         request.set_data_source_uuid(source_);
         v1::ReprocessDataSourceResponse response;
         return settings_->ReprocessDataSource(c, request, &response);
       }},
      {"DeleteCustomer", Role::kAdmin, grpc::StatusCode::NOT_FOUND,
       DeleteCustomerCall(missing_customer)},
      {"MergeCustomers", Role::kAdmin, grpc::StatusCode::NOT_FOUND,
       [&](grpc::ClientContext* c) {
         v1::MergeCustomersRequest request;
         request.set_from_customer_uuid(missing_customer);
         request.set_into_customer_uuid(customer_);
         v1::Customer response;
         return customers_->MergeCustomers(c, request, &response);
       }},
      {"DeleteInvoice", Role::kAdmin, grpc::StatusCode::NOT_FOUND,
       [&](grpc::ClientContext* c) {
         v1::DeleteInvoiceRequest request;
         request.set_uuid("inv_aaaaaaaaaaaaaaaaaaaa");
         google::protobuf::Empty response;
         return invoices_->DeleteInvoice(c, request, &response);
       }},
      {"ListApiKeys", Role::kAdmin, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::ListApiKeysRequest request;
         v1::ListApiKeysResponse response;
         return keys_->ListApiKeys(c, request, &response);
       }},
      {"CreateApiKey", Role::kAdmin, grpc::StatusCode::OK,
       [&](grpc::ClientContext* c) {
         v1::CreateApiKeyRequest request;
         request.set_name(unique("key"));
         request.set_role(v1::API_KEY_ROLE_READER);
         v1::CreateApiKeyResponse response;
         return keys_->CreateApiKey(c, request, &response);
       }},
  };
  const std::vector<std::pair<As, int>> callers = {
      {As::kNoKey, -1},
      {As::kUnknownKey, -1},
      {As::kReader, static_cast<int>(Role::kReader)},
      {As::kWriter, static_cast<int>(Role::kWriter)},
      {As::kAdmin, static_cast<int>(Role::kAdmin)}};
  for (const Case& test : cases) {
    for (const auto& [as, level] : callers) {
      SCOPED_TRACE(
          absl::StrCat(test.name, " as caller #", static_cast<int>(as)));
      const grpc::Status status = CallAs(as, test.call);
      const grpc::StatusCode expected = level < 0 ? kUnauthenticated
                                        : level >= static_cast<int>(test.needs)
                                            ? test.allowed_code
                                            : kDenied;
      EXPECT_EQ(status.error_code(), expected) << status.error_message();
    }
  }
}

TEST_F(AuthTest, RefusalsDoNotRevealWhetherAResourceExists) {
  const std::string missing = "cus_aaaaaaaaaaaaaaaaaaaa";
  // Without a key: the same error for an existing and a missing customer.
  const grpc::Status get_existing =
      CallAs(As::kNoKey, GetCustomerCall(customer_));
  const grpc::Status get_missing = CallAs(As::kNoKey, GetCustomerCall(missing));
  EXPECT_EQ(get_existing.error_code(), kUnauthenticated);
  EXPECT_EQ(get_missing.error_code(), kUnauthenticated);
  EXPECT_EQ(get_existing.error_message(), get_missing.error_message());
  EXPECT_EQ(ReasonOf(get_existing), "API_KEY_MISSING");
  EXPECT_EQ(ReasonOf(get_missing), "API_KEY_MISSING");
  // A malformed id is not even looked at.
  const grpc::Status unknown_key =
      CallAs(As::kUnknownKey, GetCustomerCall("nonsense"));
  EXPECT_EQ(unknown_key.error_code(), kUnauthenticated);
  EXPECT_EQ(ReasonOf(unknown_key), "API_KEY_INVALID");

  // With too low a role: the same error too, and nothing is deleted.
  const grpc::Status delete_existing =
      CallAs(As::kWriter, DeleteCustomerCall(customer_));
  const grpc::Status delete_missing =
      CallAs(As::kWriter, DeleteCustomerCall(missing));
  EXPECT_EQ(delete_existing.error_code(), kDenied);
  EXPECT_EQ(delete_missing.error_code(), kDenied);
  EXPECT_EQ(delete_existing.error_message(), delete_missing.error_message());
  EXPECT_THAT(delete_existing.error_message(),
              HasSubstr("has role writer; this call needs admin"));
  EXPECT_EQ(ReasonOf(delete_existing), "API_KEY_ROLE_TOO_LOW");
  EXPECT_EQ(ErrorInfoOf(delete_existing).metadata().at("role"), "writer");
  EXPECT_EQ(ErrorInfoOf(delete_existing).metadata().at("required_role"),
            "admin");
  const auto metadata = [](const grpc::Status& status) {
    const google::rpc::ErrorInfo info = ErrorInfoOf(status);
    return std::map<std::string, std::string>(info.metadata().begin(),
                                              info.metadata().end());
  };
  EXPECT_EQ(metadata(delete_missing), metadata(delete_existing));
  EXPECT_TRUE(CallAs(As::kReader, GetCustomerCall(customer_)).ok());
}

TEST_F(AuthTest, MalformedAuthorizationIsUnauthenticated) {
  const Call get = GetCustomerCall(customer_);
  for (const std::string& header :
       {std::string("Basic abc"), std::string("Bearer"), std::string("Bearer "),
        std::string(admin_), absl::StrCat("Bearer ", admin_, "x")}) {
    SCOPED_TRACE(header);
    const grpc::Status status = WithHeader(header, get);
    EXPECT_EQ(status.error_code(), kUnauthenticated);
    // "Bearer <key>x" is well formed, with a key nobody has.
    EXPECT_EQ(ReasonOf(status), absl::StartsWith(header, "Bearer ") &&
                                        header.size() > 7
                                    ? "API_KEY_INVALID"
                                    : "API_KEY_MALFORMED");
  }
  // The scheme is case-insensitive.
  EXPECT_TRUE(WithHeader(absl::StrCat("bearer ", admin_), get).ok());
}

TEST_F(AuthTest, RevokedKeyIsUnauthenticatedAtOnceAndAfterRestart) {
  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->ListApiKeys(c, v1::ListApiKeysRequest(), &listed);
              }).ok());
  ASSERT_EQ(listed.keys_size(), 3);
  std::string writer_uuid;
  for (const v1::ApiKey& key : listed.keys()) {
    if (key.name() == "writer-key") writer_uuid = key.uuid();
    EXPECT_FALSE(key.has_revoked_at());
  }
  ASSERT_THAT(writer_uuid, HasSubstr("key_"));
  ASSERT_TRUE(CallAs(As::kWriter, GetCustomerCall(customer_)).ok());

  v1::RevokeApiKeyRequest revoke;
  revoke.set_uuid(writer_uuid);
  v1::ApiKey revoked;
  // Only an admin may revoke.
  EXPECT_EQ(CallAs(As::kWriter,
                   [&](grpc::ClientContext* c) {
                     return keys_->RevokeApiKey(c, revoke, &revoked);
                   })
                .error_code(),
            kDenied);
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->RevokeApiKey(c, revoke, &revoked);
              }).ok());
  EXPECT_TRUE(revoked.has_revoked_at());
  const grpc::Status refused = CallAs(As::kWriter, GetCustomerCall(customer_));
  EXPECT_EQ(refused.error_code(), kUnauthenticated);
  EXPECT_EQ(ReasonOf(refused), "API_KEY_INVALID");

  server_.Restart();
  customers_ = server_.customer_stub();
  keys_ = server_.api_key_stub();
  EXPECT_EQ(CallAs(As::kWriter, GetCustomerCall(customer_)).error_code(),
            kUnauthenticated);
  EXPECT_TRUE(CallAs(As::kReader, GetCustomerCall(customer_)).ok());
  // Revoking every key does not open the server again.
  EXPECT_EQ(CallAs(As::kNoKey, GetCustomerCall(customer_)).error_code(),
            kUnauthenticated);
}

TEST_F(AuthTest, RevokingAKeyEndsTheWatchesOpenedWithIt) {
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader;
  };
  const auto open = [this](const std::string& secret) {
    auto watch = std::make_unique<Watch>();
    watch->context.AddMetadata("authorization",
                               absl::StrCat("Bearer ", secret));
    watch->context.set_deadline(std::chrono::system_clock::now() +
                                std::chrono::seconds(20));
    watch->reader =
        feed_->WatchChanges(&watch->context, v1::WatchChangesRequest());
    watch->reader->WaitForInitialMetadata();  // the server holds it
    return watch;
  };
  std::unique_ptr<Watch> by_reader = open(reader_);
  std::unique_ptr<Watch> by_admin = open(admin_);
  ASSERT_EQ(server_.server().change_feed().watch_count(), 2u);

  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->ListApiKeys(c, v1::ListApiKeysRequest(), &listed);
              }).ok());
  v1::RevokeApiKeyRequest revoke;
  for (const v1::ApiKey& key : listed.keys()) {
    if (key.name() == "reader-key") revoke.set_uuid(key.uuid());
  }
  v1::ApiKey revoked;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->RevokeApiKey(c, revoke, &revoked);
              }).ok());

  // Ended without waiting for a change.
  v1::Change change;
  EXPECT_FALSE(by_reader->reader->Read(&change));
  const grpc::Status ended = by_reader->reader->Finish();
  EXPECT_EQ(ended.error_code(), kUnauthenticated);
  EXPECT_EQ(ReasonOf(ended), "API_KEY_INVALID");

  // The other key's watch goes on: February's renewal is missed.
  server_.clock().Set(T("2025-02-15"));
  ASSERT_TRUE(server_.server().reevaluator().RunOnce().ok());
  ASSERT_TRUE(server_.server().change_follower().Poll().ok());
  EXPECT_TRUE(by_admin->reader->Read(&change));
  EXPECT_EQ(change.customer_uuid(), customer_);
  by_admin->context.TryCancel();
  EXPECT_EQ(by_admin->reader->Finish().error_code(),
            grpc::StatusCode::CANCELLED);
}

TEST_F(AuthTest, KeysAreStoredHashed) {
  v1::CreateApiKeyRequest request;
  request.set_name("billing-sync");
  request.set_role(v1::API_KEY_ROLE_WRITER);
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->CreateApiKey(c, request, &created);
              }).ok());
  const std::string secret = created.api_key();
  ASSERT_EQ(secret.size(), 3 + 64);
  EXPECT_EQ(secret.substr(0, 3), "rk_");
  EXPECT_EQ(created.key().name(), "billing-sync");
  EXPECT_EQ(created.key().role(), v1::API_KEY_ROLE_WRITER);

  // Read back from the store (either backend): the row holds the hash.
  auto store =
      ::recurrent::testing::DefaultTestBackend().open_keys(server_.dir());
  ASSERT_TRUE(store.ok()) << store.status();
  auto stored = (*store)->LoadAllApiKeys();
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::vector<std::string> hashes;
  for (const persistence::ApiKey& key : *stored) {
    if (key.uuid == created.key().uuid()) hashes.push_back(key.secret_sha256);
  }
  EXPECT_THAT(hashes, ::testing::ElementsAre(Sha256Hex(secret)));
  // The secret appears nowhere in the row.
  std::vector<std::string> holding;
  for (const persistence::ApiKey& key : *stored) {
    if (absl::StrContains(key.uuid + key.name + key.secret_sha256,
                          secret.substr(3))) {
      holding.push_back(key.uuid);
    }
  }
  EXPECT_THAT(holding, IsEmpty());
  // Listing never shows it either.
  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return keys_->ListApiKeys(c, v1::ListApiKeysRequest(), &listed);
              }).ok());
  EXPECT_THAT(listed.DebugString(), Not(HasSubstr(secret.substr(3))));

  // And the new key works with its role.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", secret));
  EXPECT_TRUE(GetCustomerCall(customer_)(&context).ok());
}

TEST_F(AuthTest, CreateApiKeyValidatesItsRequest) {
  auto create = [&](const std::string& name, v1::ApiKeyRole role) {
    v1::CreateApiKeyRequest request;
    request.set_name(name);
    request.set_role(role);
    v1::CreateApiKeyResponse response;
    return CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
      return keys_->CreateApiKey(c, request, &response);
    });
  };
  EXPECT_EQ(create("", v1::API_KEY_ROLE_ADMIN).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create("has space", v1::API_KEY_ROLE_ADMIN).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create("x", v1::API_KEY_ROLE_UNSPECIFIED).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(create("ops", v1::API_KEY_ROLE_READER).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  v1::RevokeApiKeyRequest revoke;
  revoke.set_uuid("key_aaaaaaaaaaaaaaaaaaaa");
  v1::ApiKey revoked;
  EXPECT_EQ(CallAs(As::kAdmin,
                   [&](grpc::ClientContext* c) {
                     return keys_->RevokeApiKey(c, revoke, &revoked);
                   })
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AuthTest, SettingsHistoryRecordsWhoSavedEachVersion) {
  v1::UpdateSettingsRequest update;
  update.set_data_source_uuid(source_);
  update.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
  update.mutable_past_due_handling()->set_auto_churn_after_days(14);
  v1::UpdateSettingsResponse updated;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return settings_->UpdateSettings(c, update, &updated);
              }).ok());
  ASSERT_TRUE(updated.applied());

  v1::ListSettingsHistoryRequest request;
  request.set_data_source_uuid(source_);
  v1::ListSettingsHistoryResponse history;
  ASSERT_TRUE(CallAs(As::kReader, [&](grpc::ClientContext* c) {
                return settings_->ListSettingsHistory(c, request, &history);
              }).ok());
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_EQ(history.versions(0).saved_by(), "");
  EXPECT_EQ(history.versions(1).saved_by(), "ops");
}

TEST_F(AuthTest, DestructiveOperationsRecordTheKey) {
  v1::MergeCustomersRequest merge;
  merge.set_from_customer_uuid(other_customer_);
  merge.set_into_customer_uuid(customer_);
  v1::Customer merged;
  ASSERT_TRUE(CallAs(As::kAdmin, [&](grpc::ClientContext* c) {
                return customers_->MergeCustomers(c, merge, &merged);
              }).ok());
  ASSERT_TRUE(CallAs(As::kAdmin, DeleteCustomerCall(customer_)).ok());
  // A refused or failed call records nothing.
  EXPECT_EQ(CallAs(As::kAdmin, DeleteCustomerCall(customer_)).error_code(),
            grpc::StatusCode::NOT_FOUND);

  auto store = ::recurrent::testing::DefaultTestBackend().open_keys(
      server_.dir().string());
  ASSERT_TRUE(store.ok()) << store.status();
  auto audit = (*store)->ListAudit(10);
  ASSERT_TRUE(audit.ok()) << audit.status();
  std::vector<std::string> lines;
  for (const persistence::AuditEntry& entry : *audit) {
    lines.push_back(
        absl::StrCat(entry.key_name, " ", entry.action, " ", entry.target));
  }
  EXPECT_THAT(
      lines,
      ::testing::ElementsAre(
          // SetUp's, made while the server had no key yet.
          absl::StrCat(" SourceSettingsService.CreateDataSource ", source_),
          absl::StrCat("ops CustomerService.MergeCustomers ", other_customer_,
                       " -> ", customer_),
          absl::StrCat("ops CustomerService.DeleteCustomer ", customer_)));
  EXPECT_EQ((*audit)[1].at, server_.clock().Now());
  EXPECT_THAT((*audit)[1].key_uuid, HasSubstr("key_"));
}

}  // namespace
}  // namespace recurrent::service::testing
