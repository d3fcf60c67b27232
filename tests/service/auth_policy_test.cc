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

// Two AccessControls on one database stand for two replicas: what one
// creates or revokes, the other sees at its next Reload.
TEST_F(PolicyTest, KeysCreatedOrRevokedElsewhereTakeEffectAtTheNextReload) {
  auto here = AccessControl::Create(keys_.get());
  auto there = AccessControl::Create(keys_.get());
  ASSERT_TRUE(here.ok() && there.ok());
  const auto authorize = [](AccessControl& access, const std::string& secret) {
    std::vector<absl::string_view> headers;
    const std::string header = absl::StrCat("Bearer ", secret);
    if (!secret.empty()) headers.push_back(header);
    return access.AuthorizeHeaders(headers, Role::kReader).status().code();
  };
  // Whether a reload found a revocation; "error" if it failed.
  const auto reload = [](AccessControl& access) -> std::string {
    absl::StatusOr<bool> revoked = access.Reload();
    if (!revoked.ok()) return "error";
    return *revoked ? "revoked" : "none revoked";
  };

  // The first key, made here: there, calls without a key are refused once
  // it reloads.
  auto first = (*here)->CreateKey("ops", Role::kAdmin, clock_.Now());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(authorize(**there, ""), absl::StatusCode::kOk);
  ASSERT_EQ(reload(**there), "none revoked");
  EXPECT_TRUE((*there)->HasKeys());
  EXPECT_EQ(authorize(**there, ""), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authorize(**there, first->secret), absl::StatusCode::kOk);

  // Revoked here: refused here at once, there from its next reload, which
  // reports the revocation to OnRevoked.
  int reported = 0;
  (*there)->OnRevoked([&] { ++reported; });
  ASSERT_TRUE((*here)->RevokeKey(first->key.uuid, clock_.Now()).ok());
  EXPECT_EQ(authorize(**here, first->secret),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authorize(**there, first->secret), absl::StatusCode::kOk);
  ASSERT_EQ(reload(**there), "revoked");
  EXPECT_EQ(reported, 1);
  EXPECT_EQ(authorize(**there, first->secret),
            absl::StatusCode::kUnauthenticated);
  ASSERT_EQ(reload(**there), "none revoked");
  EXPECT_EQ(reported, 1);
}

// A key store that runs `after_create` once a key is stored, before
// CreateApiKey returns.
class HookedKeyStore : public persistence::ApiKeyStore {
 public:
  explicit HookedKeyStore(persistence::ApiKeyStore* store) : store_(store) {}
  absl::StatusOr<persistence::ApiKey> CreateApiKey(
      absl::string_view name, persistence::ApiKeyRole role,
      absl::string_view secret_sha256, absl::Time now,
      Creation creation) override {
    auto created =
        store_->CreateApiKey(name, role, secret_sha256, now, creation);
    if (created.ok() && after_create) after_create(*created);
    return created;
  }
  absl::StatusOr<persistence::Page<persistence::ApiKey>> ListApiKeys(
      const persistence::PageRequest& page) override {
    return store_->ListApiKeys(page);
  }
  absl::StatusOr<std::vector<persistence::ApiKey>> LoadAllApiKeys() override {
    return store_->LoadAllApiKeys();
  }
  absl::StatusOr<persistence::ApiKey> RevokeApiKey(absl::string_view uuid,
                                                   absl::Time now) override {
    return store_->RevokeApiKey(uuid, now);
  }
  absl::Status AppendAudit(const persistence::AuditEntry& entry) override {
    return store_->AppendAudit(entry);
  }
  absl::StatusOr<std::vector<persistence::AuditEntry>> ListAudit(
      int limit) override {
    return store_->ListAudit(limit);
  }

  std::function<void(const persistence::ApiKey&)> after_create;

 private:
  persistence::ApiKeyStore* const store_;
};

TEST_F(PolicyTest, AKeyRevokedWhileItIsBeingCreatedStaysRevoked) {
  HookedKeyStore store(keys_.get());
  auto access = AccessControl::Create(&store);
  ASSERT_TRUE(access.ok());
  ASSERT_TRUE((*access)->CreateKey("ops", Role::kAdmin, clock_.Now()).ok());
  // The new key is listed (so revocable) once stored, before CreateKey has
  // put it in the in-memory index.
  store.after_create = [&](const persistence::ApiKey& key) {
    ASSERT_TRUE((*access)->RevokeKey(key.uuid, clock_.Now()).ok());
  };
  auto created = (*access)->CreateKey("sync", Role::kReader, clock_.Now());
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string header = absl::StrCat("Bearer ", created->secret);
  EXPECT_EQ(
      (*access)->AuthorizeHeaders({header}, Role::kReader).status().code(),
      absl::StatusCode::kUnauthenticated);
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
