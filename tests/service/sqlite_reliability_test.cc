// Storage faults through the public API, on SQLite: calls abandoned while
// they write, a full disk, a read-only database; each checked with SQLite's
// own integrity check.
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/service/api_fixture.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {
namespace {

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
  EXPECT_EQ(Import(customer, Batch("second", 2)).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(GetCustomer(customer).uuid(), customer);
  EXPECT_EQ(ListInvoices(customer).size(), 3u);
  EXPECT_EQ(IntegrityCheck(), "ok");
}

}  // namespace
}  // namespace recurrent::service::testing
