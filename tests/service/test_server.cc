#include "tests/service/test_server.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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
  persistence::SqliteStorage::Options storage_options;
  storage_options.path = db_path_.string();
  storage_options.max_page_count = options_.max_page_count;
  storage_options.read_only = options_.read_only;
  auto storage = persistence::SqliteStorage::Open(storage_options);
  if (!storage.ok()) {
    ADD_FAILURE() << storage.status();
    std::abort();
  }
  storage_ = std::move(*storage);
  auto keys = persistence::SqliteApiKeyStore::Open(storage_options.path);
  if (!keys.ok()) {
    ADD_FAILURE() << keys.status();
    std::abort();
  }
  keys_ = std::move(*keys);

  ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.worker_threads = 4;
  server_options.max_message_bytes = options_.max_message_bytes;
  // Tests move the fake clock and run the re-evaluator by hand.
  server_options.reevaluate_interval = absl::ZeroDuration();
  auto server =
      Server::Start(server_options, storage_.get(), &clock_, keys_.get());
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
  channel_.reset();
  server_.reset();
  keys_.reset();
  storage_.reset();
  Start();
}

TestServer::~TestServer() {
  channel_.reset();
  server_.reset();
  keys_.reset();
  storage_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace recurrent::service::testing
