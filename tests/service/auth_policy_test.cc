// When the server may run without API keys, and how the first key is made.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/api_key_store.h"
#include "service/access_control.h"
#include "service/server.h"
#include "tests/service/test_server.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, KnowsLoopbackHosts) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:50051"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:50051"));
  EXPECT_TRUE(IsLoopbackAddress("[::ffff:127.0.0.1]:50051"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:50051"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.5:50051"));
  EXPECT_FALSE(IsLoopbackAddress("example.com:50051"));
  EXPECT_FALSE(IsLoopbackAddress("128.0.0.1:50051"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1"));  // no port: not an address
  EXPECT_FALSE(IsLoopbackAddress("unix:/tmp/recurrent.sock"));
}

// A database with its key store, without a running server.
class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "recurrent-auth-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto backend = ::recurrent::testing::DefaultTestBackend().open(dir_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    auto keys = ::recurrent::testing::DefaultTestBackend().open_keys(dir_);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
  }
  void TearDown() override {
    keys_.reset();
    backend_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& address,
                                                bool allow_unauthenticated) {
    ServerOptions options;
    options.listen_address = address;
    options.reevaluate_interval = absl::ZeroDuration();
    options.allow_unauthenticated = allow_unauthenticated;
    return Server::Start(options, backend_.get(), &clock_, keys_.get());
  }

  std::filesystem::path dir_;
  common::FakeClock clock_{TestEpoch()};
  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<persistence::ApiKeyStore> keys_;
};

// These tests only start and stop servers on the wildcard address; they send
// nothing to it.
TEST_F(PolicyTest, WithoutKeysRefusesToServeOffLoopback) {
  auto server = Start("0.0.0.0:0", /*allow_unauthenticated=*/false);
  ASSERT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("without authentication: no API key exists"));
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("--allow_unauthenticated"));
}

TEST_F(PolicyTest, AllowUnauthenticatedServesOffLoopback) {
  auto server = Start("0.0.0.0:0", /*allow_unauthenticated=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  (*server)->Shutdown(absl::ZeroDuration());
}

TEST_F(PolicyTest, AKeyLetsTheServerServeOffLoopback) {
  auto access = AccessControl::Create(keys_.get());
  ASSERT_TRUE(access.ok());
  ASSERT_TRUE((*access)->CreateKey("ops", Role::kAdmin, clock_.Now()).ok());
  // Even a revoked key: authentication stays on.
  auto listed = keys_->LoadAllApiKeys();
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE((*access)->RevokeKey(listed->at(0).uuid, clock_.Now()).ok());
  auto server = Start("0.0.0.0:0", /*allow_unauthenticated=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Shutdown(absl::ZeroDuration());
}

// Bootstrap on loopback: the first key is created without one; from then on
// every call of our services needs a key, but health checks do not.
TEST(BootstrapTest, FirstKeyIsCreatedWithoutAKeyThenKeysAreRequired) {
  TestServer server;
  auto keys = server.api_key_stub();
  v1::CreateApiKeyRequest request;
  request.set_name("first");
  request.set_role(v1::API_KEY_ROLE_ADMIN);
  v1::CreateApiKeyResponse first;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(keys->CreateApiKey(&context, request, &first).ok());
  }
  request.set_name("second");
  v1::CreateApiKeyResponse second;
  {
    grpc::ClientContext context;
    EXPECT_EQ(keys->CreateApiKey(&context, request, &second).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization",
                        absl::StrCat("Bearer ", first.api_key()));
    EXPECT_TRUE(keys->CreateApiKey(&context, request, &second).ok());
  }
  {
    grpc::ClientContext context;
    v1::ListDataSourcesResponse response;
    EXPECT_EQ(
        server.settings_stub()
            ->ListDataSources(&context, v1::ListDataSourcesRequest(), &response)
            .error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest health_request;
  health_request.set_service("recurrent.v1.ApiKeyService");
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(server.channel())
                  ->Check(&context, health_request, &health)
                  .ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Bootstrap is atomic: of 20 concurrent first keys (no key sent) exactly one
// is created; the others are UNAUTHENTICATED and store nothing. Before the
// check moved into the insert's transaction, all 20 were created.
TEST(BootstrapTest, ConcurrentFirstKeysCreateExactlyOne) {
  TestServer server;
  constexpr int kCalls = 20;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto keys = server.api_key_stub();
      v1::CreateApiKeyRequest request;
      request.set_name(absl::StrCat("first-", i));
      request.set_role(v1::API_KEY_ROLE_ADMIN);
      v1::CreateApiKeyResponse response;
      grpc::ClientContext context;
      ready.fetch_add(1);
      while (ready.load() < kCalls) std::this_thread::yield();
      statuses[i] = keys->CreateApiKey(&context, request, &response);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int created = 0;
  for (const grpc::Status& status : statuses) {
    if (status.ok()) {
      ++created;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << status.error_message();
    }
  }
  EXPECT_EQ(created, 1);
  auto stored = server.server().access().ListKeys(persistence::PageRequest());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->items.size(), 1u);
}

}  // namespace
}  // namespace recurrent::service::testing
