#include "tests/service/test_server.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_backend.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {

TestServer::TestServer() : clock_(TestEpoch()) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "recurrent-test-XXXXXX")
          .string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  dir_ = made;
  db_path_ = dir_ / "recurrent.db";

  Start();
}

void TestServer::Start() {
  absl::StatusOr<std::unique_ptr<persistence::Backend>> backend;
  if (options_.max_page_count != 0 || options_.read_only) {
    persistence::SqliteBackend::Options sqlite;
    sqlite.path = db_path_.string();
    sqlite.max_page_count = options_.max_page_count;
    sqlite.read_only = options_.read_only;
    auto opened = persistence::SqliteBackend::Open(sqlite);
    if (opened.ok()) {
      backend = std::unique_ptr<persistence::Backend>(*std::move(opened));
    } else {
      backend = opened.status();
    }
  } else {
    backend = ::recurrent::testing::DefaultTestBackend().open(dir_.string());
  }
  if (!backend.ok()) {
    ADD_FAILURE() << backend.status();
    std::abort();
  }
  backend_ = *std::move(backend);
  // API keys live in the same database as the data.
  auto keys = ::recurrent::testing::DefaultTestBackend().open_keys(dir_.string());
  if (!keys.ok()) {
    ADD_FAILURE() << keys.status();
    std::abort();
  }
  keys_ = std::move(*keys);

  ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.worker_threads = 4;
  server_options.max_message_bytes = options_.max_message_bytes;
  server_options.store = options_.store;
  server_options.read_only = options_.read_only;  // as main.cc does
  // Tests move the fake clock, and run the re-evaluator and read the change
  // log for other processes' writes by hand.
  server_options.reevaluate_interval = absl::ZeroDuration();
  server_options.change_log_poll_interval = options_.change_log_poll_interval;
  server_options.log_requests = options_.log_requests;
  auto server =
      Server::Start(server_options, backend_.get(), &clock_, keys_.get());
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    std::abort();
  }
  server_ = std::move(*server);
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                 grpc::InsecureChannelCredentials());
}

void TestServer::Restart(const TestServerOptions& options) {
  options_ = options;
  Restart();
}

void TestServer::Restart() {
  Restart([] {});
}

void TestServer::Restart(const std::function<void()>& offline) {
  channel_.reset();
  server_.reset();
  keys_.reset();
  backend_.reset();
  offline();
  Start();
}

TestServer::~TestServer() {
  channel_.reset();
  server_.reset();
  keys_.reset();
  backend_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace recurrent::service::testing
