// TestServer: a real Recurrent server on an ephemeral port over a fresh
// database in a temporary folder (the backend of DefaultTestBackend(), see
// tests/testing/backends.h; SQLite unless RECURRENT_TEST_BACKEND says
// otherwise), with a FakeClock, for service tests.
// It starts with no API key (so calls need none); tests of authentication
// create keys through server().access() or the ApiKeyService.
#ifndef RECURRENT_TESTS_SERVICE_TEST_SERVER_H_
#define RECURRENT_TESTS_SERVICE_TEST_SERVER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "core/store.h"
#include "grpcpp/grpcpp.h"
#include "persistence/api_key_store.h"
#include "persistence/backend.h"
#include "recurrent/v1/api_key.grpc.pb.h"
#include "recurrent/v1/customer.grpc.pb.h"
#include "recurrent/v1/invoice.grpc.pb.h"
#include "recurrent/v1/source_settings.grpc.pb.h"
#include "service/server.h"

namespace recurrent::service::testing {

// 2025-01-01T00:00:00Z, the fake "now" every test starts at.
inline absl::Time TestEpoch() { return absl::FromUnixSeconds(1735689600); }

// What a test may change about the server and its database.
struct TestServerOptions {
  int max_message_bytes = 16 << 20;
  core::Store::Options store;
  // SQLite only (persistence::SqliteBackend::Options); setting either opens
  // a SqliteBackend whatever the default backend.
  int64_t max_page_count = 0;
  bool read_only = false;
  // Zero: the change log is read only by hand (change_follower().Poll()).
  // Positive (absl::InfiniteDuration(): polling on, but never due), the
  // GetCustomer cache follows core::ChangeFollower::UpToDate.
  absl::Duration change_log_poll_interval = absl::ZeroDuration();
  // ServerOptions::log_requests (one log line per call, on stderr).
  bool log_requests = false;
};

class TestServer {
 public:
  TestServer();
  ~TestServer();

  common::FakeClock& clock() { return clock_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::filesystem::path& db_path() const { return db_path_; }
  // The folder the database lives in (TestBackend::open and open_keys).
  const std::filesystem::path& dir() const { return dir_; }
  Server& server() { return *server_; }
  persistence::Backend& backend() { return *backend_; }

  // Stops the server, closes the database, then opens it again and serves
  // on a new port (channel() and stubs made after this use it).
  void Restart();
  // The same, with new options (kept by later Restart() calls).
  void Restart(const TestServerOptions& options);
  // The same, running `offline` while the database is closed (to restore a
  // backup over db_path(), say).
  void Restart(const std::function<void()>& offline);

  std::unique_ptr<v1::SourceSettingsService::Stub> settings_stub() {
    return v1::SourceSettingsService::NewStub(channel_);
  }
  std::unique_ptr<v1::CustomerService::Stub> customer_stub() {
    return v1::CustomerService::NewStub(channel_);
  }
  std::unique_ptr<v1::InvoiceService::Stub> invoice_stub() {
    return v1::InvoiceService::NewStub(channel_);
  }
  std::unique_ptr<v1::ApiKeyService::Stub> api_key_stub() {
    return v1::ApiKeyService::NewStub(channel_);
  }

 private:
  void Start();

  TestServerOptions options_;
  std::filesystem::path dir_;
  std::filesystem::path db_path_;
  common::FakeClock clock_;
  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<persistence::ApiKeyStore> keys_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace recurrent::service::testing

#endif  // RECURRENT_TESTS_SERVICE_TEST_SERVER_H_
