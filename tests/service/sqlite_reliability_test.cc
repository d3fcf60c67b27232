// Storage faults through the public API, on SQLite: calls abandoned while
// they write, a full disk, a read-only database; each checked with SQLite's
// own integrity check.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_api_key_store.h"
#include "persistence/sqlite_backend.h"
#include "persistence/sqlite_backup.h"
#include "service/server.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {
namespace {

using ::testing::HasSubstr;

class SqliteReliabilityTest : public ApiTest {
 protected:
  void SetUp() override {
    if (!::recurrent::testing::DefaultTestBackendIsSqlite()) {
      GTEST_SKIP() << "SQLite only";
    }
  }

  // `count` monthly invoices of subscription `name`, ids unique to it.
  static std::vector<InvoiceSpec> Batch(const std::string& name, int count) {
    return Monthly(name, T("2020-01-01"), count);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus HealthStatus() {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status =
        grpc::health::v1::Health::NewStub(server_.channel())
            ->Check(&context, grpc::health::v1::HealthCheckRequest(),
                    &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }

  // PRAGMA integrity_check of the test database (read-only connection).
  std::string IntegrityCheck() {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(server_.db_path().c_str(), &db, SQLITE_OPEN_READONLY,
                        nullptr) == SQLITE_OK) {
      sqlite3_stmt* stmt = nullptr;
      sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return result;
  }
};

TEST_F(SqliteReliabilityTest, CancelledImportsAreAllOrNothing) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  constexpr int kBatch = 40;
  int acknowledged = 0;
  for (int round = 0; round < 20; ++round) {
    grpc::ClientContext context;
    // From already past to a few milliseconds: some calls never start, some
    // are abandoned by the client while they run, some finish.
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::microseconds(round * 500));
    v1::ImportInvoicesRequest request;
    request.set_customer_uuid(customer);
    for (const InvoiceSpec& spec : Batch(absl::StrCat("r", round), kBatch)) {
      *request.add_invoices() = MakeInvoice(spec);
    }
    v1::ImportInvoicesResponse response;
    if (invoices_->ImportInvoices(&context, request, &response).ok()) {
      ++acknowledged;
    }
  }
  // Let calls abandoned by their clients finish on the server.
  RestartWith(TestServerOptions());
  std::vector<v1::Invoice> stored = ListInvoices(customer);
  EXPECT_EQ(stored.size() % kBatch, 0u) << "a batch is partly stored";
  EXPECT_GE(static_cast<int>(stored.size()), acknowledged * kBatch);
  EXPECT_EQ(IntegrityCheck(), "ok");
}

TEST_F(SqliteReliabilityTest, FullDiskRefusesWritesKeepsReads) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  MustImport(customer, Batch("first", 3));
  TestServerOptions options;
  options.max_page_count = 1;  // SQLite keeps at least the current size
  RestartWith(options);
  grpc::Status status;
  int round = 0;
  for (; round < 50 && status.ok(); ++round) {
    status = Import(customer, Batch(absl::StrCat("fill", round), 100));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_NE(status.error_message().find("full"), std::string::npos);
  EXPECT_EQ(ReasonOf(status), "DISK_FULL");
  EXPECT_FALSE(RetryDelayOf(status).has_value());
  // Reads go on, and see whole batches only.
  EXPECT_EQ(GetCustomer(customer).uuid(), customer);
  const size_t stored = ListInvoices(customer).size();
  EXPECT_EQ((stored - 3) % 100, 0u);
  EXPECT_EQ(IntegrityCheck(), "ok");
  // With room again, the refused batch goes in.
  RestartWith(TestServerOptions());
  EXPECT_TRUE(
      Import(customer, Batch(absl::StrCat("fill", round - 1), 100)).ok());
  EXPECT_EQ(IntegrityCheck(), "ok");
}

TEST_F(SqliteReliabilityTest, ReadOnlyDatabaseRefusesWritesKeepsReads) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  MustImport(customer, Batch("first", 3));
  TestServerOptions options;
  options.read_only = true;
  RestartWith(options);
  grpc::ClientContext context;
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_data_source_uuid(source);
  request.mutable_customer()->set_external_id("c2");
  v1::Customer created;
  grpc::Status status = customers_->CreateCustomer(&context, request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_EQ(status.error_message(), "database is read-only");
  EXPECT_EQ(ReasonOf(status), "DATABASE_READ_ONLY");
  EXPECT_FALSE(RetryDelayOf(status).has_value());
  const grpc::Status import = Import(customer, Batch("second", 2));
  EXPECT_EQ(import.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(import), "DATABASE_READ_ONLY");
  EXPECT_EQ(GetCustomer(customer).uuid(), customer);
  EXPECT_EQ(ListInvoices(customer).size(), 3u);
  EXPECT_EQ(IntegrityCheck(), "ok");
}

// The database file deleted while the server runs: before, writes were
// acknowledged into the unlinked file and lost at the next start. Now each
// commit checks that the path still names the open file: writes are
// UNAVAILABLE from then on (even once a new file appears at the path),
// health is NOT_SERVING, and reads still answer from the open file.
TEST_F(SqliteReliabilityTest, DeletedDatabaseFileRefusesWritesAndHealth) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c1");
  MustImport(customer, Batch("first", 3));
  EXPECT_TRUE(server_.server().CheckBackendHealth().ok());
  std::filesystem::remove(server_.db_path());
  const grpc::Status refused = Import(customer, Batch("second", 2));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("was deleted or replaced while open"));
  // UNAVAILABLE, but retrying cannot help: no RetryInfo.
  EXPECT_EQ(ReasonOf(refused), "DATABASE_REPLACED");
  EXPECT_FALSE(RetryDelayOf(refused).has_value());
  EXPECT_EQ(server_.server().CheckBackendHealth().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(HealthStatus(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(ListInvoices(customer).size(), 3u);
  std::ofstream(server_.db_path()) << "";  // a new, empty file at the path
  EXPECT_EQ(Import(customer, Batch("third", 1)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// The same for a file replaced by another (a restore copied over it).
TEST_F(SqliteReliabilityTest, ReplacedDatabaseFileRefusesWrites) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  MustImport(customer, Batch("first", 1));
  const std::filesystem::path copy = server_.db_path().string() + ".copy";
  std::filesystem::copy_file(server_.db_path(), copy);
  std::filesystem::rename(copy, server_.db_path());
  const grpc::Status refused = Import(customer, Batch("second", 1));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("was deleted or replaced"));
  EXPECT_EQ(ReasonOf(refused), "DATABASE_REPLACED");
}

// --read_only opens the file read-only for real: before, it switched the
// journal mode to WAL (changing the file's bytes) and ran the re-evaluator.
// A backup served read-only, read and left while time passes over its
// customers' transitions, keeps every byte.
TEST_F(SqliteReliabilityTest, ReadOnlyLeavesTheFileByteIdentical) {
  const std::string customer = CreateCustomer(CreateSource("s"), "c1");
  MustImport(customer, Batch("first", 3));
  const std::string backup = server_.db_path().string() + ".backup";
  ASSERT_TRUE(
      persistence::BackupDatabase(server_.db_path().string(), backup).ok());
  const std::string before = ReadFile(backup);
  {
    persistence::SqliteBackend::Options options;
    options.path = backup;
    options.read_only = true;
    auto backend = persistence::SqliteBackend::Open(options);
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_FALSE((*backend)->created());
    auto keys = persistence::SqliteApiKeyStore::Open(
        backup, persistence::SqliteApiKeyStore::Options{/*read_only=*/true});
    ASSERT_TRUE(keys.ok()) << keys.status();
    ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    server_options.read_only = true;
    server_options.reevaluate_interval = absl::Milliseconds(10);
    auto server = Server::Start(server_options, backend->get(),
                                &server_.clock(), keys->get());
    ASSERT_TRUE(server.ok()) << server.status();
    auto stub = v1::CustomerService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                            grpc::InsecureChannelCredentials()));
    for (int day = 0; day < 5; ++day) {
      server_.clock().Advance(absl::Hours(24 * 40));
      absl::SleepFor(absl::Milliseconds(30));  // three re-evaluations
      grpc::ClientContext context;
      v1::GetCustomerRequest request;
      request.set_uuid(customer);
      v1::Customer got;
      ASSERT_TRUE(stub->GetCustomer(&context, request, &got).ok());
    }
    EXPECT_TRUE((*server)->CheckBackendHealth().ok());
    (*server)->Shutdown(absl::ZeroDuration());
  }
  EXPECT_EQ(ReadFile(backup), before);
}

// A read-only open never creates or migrates the file.
TEST_F(SqliteReliabilityTest, ReadOnlyNeedsAnExistingUpToDateFile) {
  persistence::SqliteBackend::Options options;
  options.path = server_.db_path().string() + ".missing";
  options.read_only = true;
  auto missing = persistence::SqliteBackend::Open(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(options.path));
  options.read_only = false;
  options.create_if_missing = false;
  EXPECT_EQ(persistence::SqliteBackend::Open(options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

}  // namespace
}  // namespace recurrent::service::testing
