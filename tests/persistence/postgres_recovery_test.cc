// The PostgreSQL backend when the server drops its connections (closed while
// idle in the pool: a restart, a failover; or during a write's COMMIT), and
// on roles with fewer privileges than the schema's owner. Needs the server
// of RECURRENT_PG_URI (scripts/with-postgres); skipped without one.
#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/api_key_store.h"
#include "persistence/backend.h"
#include "persistence/postgres_api_key_store.h"
#include "persistence/postgres_backend.h"
#include "persistence/postgres_connection.h"
#include "persistence/postgres_schema.h"
#include "tests/persistence/rows.h"
#include "tests/testing/backends.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using postgres::Connection;
using ::recurrent::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PostgresRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* uri = std::getenv("RECURRENT_PG_URI");
    if (uri == nullptr || *uri == '\0') {
      GTEST_SKIP() << "needs RECURRENT_PG_URI (scripts/with-postgres)";
    }
    for (const ::recurrent::testing::TestBackend& backend :
         ::recurrent::testing::TestBackends()) {
      if (backend.name == "Postgres") postgres_ = backend;
    }
    dir_ = ::recurrent::testing::MakeTempDir();
    ASSERT_OK_AND_ASSIGN(backend_, postgres_.open(dir_));
    schema_ = ::recurrent::testing::PostgresTestSchema(dir_);
    ASSERT_FALSE(schema_.empty());
    ASSERT_OK_AND_ASSIGN(admin_, Connection::Open(uri));
  }

  // Closes every connection of this test's backend from the server's side,
  // as a restart would, and waits until they are gone. Returns how many.
  int64_t TerminateBackendConnections() {
    const absl::StatusOr<int64_t> terminated = admin_->QueryInt64(
        absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM "
                     "pg_stat_activity WHERE application_name = '",
                     schema_, "'")
            .c_str());
    EXPECT_OK(terminated.status());
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      const absl::StatusOr<int64_t> left = admin_->QueryInt64(
          absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE "
                       "application_name = '",
                       schema_, "'")
              .c_str());
      if (left.ok() && *left == 0) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return terminated.value_or(0);
  }

  // A login role of this test's own (dropped at TearDown), with USAGE on
  // this test's schema and `table_grants` (e.g. "SELECT") on its tables and
  // sequences; returns the URI that connects as it to the schema.
  std::string RoleOnSchema(const std::string& suffix,
                           const std::string& table_grants) {
    const std::string role = absl::StrCat(schema_, "_", suffix);
    const auto run = [&](const std::string& sql) {
      EXPECT_OK(admin_->Execute(sql.c_str())) << sql;
    };
    run(absl::StrCat("CREATE ROLE ", role, " LOGIN"));
    roles_.push_back(role);
    run(absl::StrCat("GRANT USAGE ON SCHEMA ", schema_, " TO ", role));
    run(absl::StrCat("GRANT ", table_grants, " ON ALL TABLES IN SCHEMA ",
                     schema_, " TO ", role));
    run(absl::StrCat("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ", schema_,
                     " TO ", role));
    return UriAs(role, schema_);
  }

  // The user of RECURRENT_PG_URI, who owns the test schemas.
  static std::string OwnerRole() {
    const std::string uri = std::getenv("RECURRENT_PG_URI");
    const size_t user = uri.find("://") + 3;
    const size_t host = uri.find('@', user);
    return host == std::string::npos ? "" : uri.substr(user, host - user);
  }

  // RECURRENT_PG_URI with `role` as its user and `schema` first on the
  // search path (the throwaway server trusts local connections).
  static std::string UriAs(const std::string& role, const std::string& schema) {
    const std::string uri = std::getenv("RECURRENT_PG_URI");
    const size_t user = uri.find("://") + 3;
    const size_t host = uri.find('@', user);
    const std::string with_role =
        host == std::string::npos
            ? uri
            : absl::StrCat(uri.substr(0, user), role, uri.substr(host));
    return absl::StrCat(with_role,
                        with_role.find('?') == std::string::npos ? "?" : "&",
                        "options=-csearch_path%3D", schema);
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    for (const std::string& role : roles_) {
      EXPECT_OK(admin_->Execute(
          absl::StrCat("DROP OWNED BY ", role, "; DROP ROLE ", role).c_str()));
    }
  }

  absl::Time At(int second) const {
    return absl::FromUnixSeconds(1767225600 + second);
  }

  ::recurrent::testing::TestBackend postgres_;
  std::string dir_;
  std::string schema_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Connection> admin_;
  std::vector<std::string> roles_;
};

TEST_F(PostgresRecoveryTest, IdleConnectionsTheServerClosedCostNoCall) {
  {
    // Three connections at once, then all three idle in the pool.
    ASSERT_OK_AND_ASSIGN(auto first, backend_->BeginRead());
    ASSERT_OK_AND_ASSIGN(auto second, backend_->BeginRead());
    ASSERT_OK_AND_ASSIGN(auto write, backend_->BeginWrite());
    ASSERT_OK(write->InsertDataSource(SourceRow("before", At(1))));
    ASSERT_OK(write->Commit());
    first.reset();
    second.reset();
  }
  // The pool's three and the health check's (the schema migration's).
  EXPECT_GE(TerminateBackendConnections(), 3);

  // The first call finds a closed connection, begins again on a new one
  // and drops the other two (closed as well): no call fails for them.
  // Without the drop, its second try would take another closed one.
  ASSERT_OK_AND_ASSIGN(auto write, backend_->BeginWrite());
  ASSERT_OK(write->InsertDataSource(SourceRow("after", At(2))));
  ASSERT_OK(write->Commit());
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto read, backend_->BeginRead());
    ASSERT_OK_AND_ASSIGN(const DataSourceRow after,
                         read->GetDataSource("ds_after"));
    EXPECT_EQ(after.name, "after");
  }
  EXPECT_OK(backend_->CheckHealth());
}

TEST_F(PostgresRecoveryTest, AConnectionLostDuringCommitLeavesTheOutcomeOpen) {
  // A deferred trigger makes the server end the session inside the COMMIT,
  // the moment a real outage could cut it off.
  ASSERT_OK(admin_->Execute(
      absl::StrCat(
          "SET search_path = ", schema_,
          "; CREATE FUNCTION end_my_session() RETURNS trigger LANGUAGE plpgsql"
          " AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid());"
          " RETURN NULL; END $$;"
          " CREATE CONSTRAINT TRIGGER end_session_at_commit AFTER INSERT ON"
          " data_sources DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
          " WHEN (NEW.name = 'cut') EXECUTE FUNCTION end_my_session()")
          .c_str()));

  ASSERT_OK_AND_ASSIGN(auto cut, backend_->BeginWrite());
  ASSERT_OK(cut->InsertDataSource(SourceRow("cut", At(1))));
  const absl::Status committed = cut->Commit();
  EXPECT_EQ(committed.code(), absl::StatusCode::kUnavailable) << committed;
  EXPECT_EQ(common::ReasonOf(committed),
            std::string(common::reason::kCommitOutcomeUnknown))
      << committed;

  // Found lost before its COMMIT (a statement of it failed), a write is
  // known not to be stored: the plain reason, which says a retry is safe.
  ASSERT_OK_AND_ASSIGN(auto early, backend_->BeginWrite());
  ASSERT_OK(early->InsertDataSource(SourceRow("early", At(2))));
  EXPECT_GE(TerminateBackendConnections(), 1);
  EXPECT_EQ(common::ReasonOf(early->GetDataSource("ds_early").status()),
            std::string(common::reason::kDatabaseUnavailable));
  const absl::Status lost = early->Commit();
  EXPECT_EQ(common::ReasonOf(lost),
            std::string(common::reason::kDatabaseUnavailable))
      << lost;

  // The backend goes on with new connections.
  ASSERT_OK_AND_ASSIGN(auto next, backend_->BeginWrite());
  ASSERT_OK(next->InsertDataSource(SourceRow("next", At(3))));
  EXPECT_OK(next->Commit());
}

// A long scan (a dry run, ReadKind::kScan) runs on a connection of its own:
// with every pooled connection of the backend free, a request still gets one
// while the scan's transaction is open.
TEST_F(PostgresRecoveryTest, AScanDoesNotHoldAPooledConnection) {
  PostgresBackend::Options options;
  const std::string uri = std::getenv("RECURRENT_PG_URI");
  options.uri =
      absl::StrCat(uri, uri.find('?') == std::string::npos ? "?" : "&",
                   "options=-csearch_path%3D", schema_);
  options.pool_size = 1;
  options.pool_wait = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresBackend> small,
                       PostgresBackend::Open(options));
  ASSERT_OK_AND_ASSIGN(auto scan, small->BeginRead(Backend::ReadKind::kScan));
  ASSERT_OK_AND_ASSIGN(auto request, small->BeginRead());
  // The pool's one connection is the request's now.
  EXPECT_EQ(small->BeginRead().status().code(), absl::StatusCode::kUnavailable);
  request.reset();
  EXPECT_OK(small->BeginRead().status());
  EXPECT_OK(scan->ListDataSources({10, ""}).status());
}

// The libpq settings a connection runs with: the defaults that bound a
// silent network, each overridden by the URI.
TEST_F(PostgresRecoveryTest, TimeoutDefaultsApplyUnlessTheUriSetsThem) {
  const auto setting = [](const Connection& connection,
                          const std::string& keyword) {
    std::string value;
    PQconninfoOption* options = PQconninfo(connection.handle());
    for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr;
         ++o) {
      if (keyword == o->keyword && o->val != nullptr) value = o->val;
    }
    PQconninfoFree(options);
    return value;
  };
  const std::string uri = std::getenv("RECURRENT_PG_URI");
  unsetenv("PGCONNECT_TIMEOUT");  // honoured instead of the default
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> plain,
                       Connection::Open(uri));
  EXPECT_EQ(setting(*plain, "connect_timeout"), "10");
  EXPECT_EQ(setting(*plain, "keepalives"), "1");
  EXPECT_EQ(setting(*plain, "keepalives_idle"), "30");
  EXPECT_EQ(setting(*plain, "keepalives_interval"), "10");
  EXPECT_EQ(setting(*plain, "keepalives_count"), "3");
  EXPECT_EQ(setting(*plain, "tcp_user_timeout"), "60000");

  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Connection> tuned,
      Connection::Open(absl::StrCat(
          uri, uri.find('?') == std::string::npos ? "?" : "&",
          "connect_timeout=4&keepalives_idle=7&tcp_user_timeout=0")));
  EXPECT_EQ(setting(*tuned, "connect_timeout"), "4");
  EXPECT_EQ(setting(*tuned, "keepalives_idle"), "7");
  EXPECT_EQ(setting(*tuned, "tcp_user_timeout"), "0");
  EXPECT_EQ(setting(*tuned, "keepalives_count"), "3");
}

TEST_F(PostgresRecoveryTest, ARoleThatMayNotCreateTemporaryTablesIsRefused) {
  // A role and database of this test's own, whose TEMPORARY privilege is
  // revoked (PostgreSQL grants it to everyone by default).
  const std::string name = absl::StrCat(schema_, "_notemp");
  // postgresql://USER@HOST/DB with this role and database (the throwaway
  // server trusts local connections).
  const std::string uri = std::getenv("RECURRENT_PG_URI");
  const size_t user = uri.find("://") + 3;
  const size_t host = uri.find('@', user);
  ASSERT_NE(host, std::string::npos);
  const std::string role_uri =
      absl::StrCat(uri.substr(0, user), name,
                   uri.substr(host, uri.find('/', host) - host), "/", name);
  const auto run = [&](const std::string& sql) {
    return admin_->Execute(sql.c_str());
  };
  ASSERT_OK(run(absl::StrCat("CREATE ROLE ", name, " LOGIN")));
  ASSERT_OK(run(absl::StrCat("CREATE DATABASE ", name, " OWNER ", name)));
  ASSERT_OK(run(absl::StrCat("REVOKE TEMPORARY ON DATABASE ", name,
                             " FROM PUBLIC, ", name)));
  PostgresBackend::Options options;
  options.uri = role_uri;
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("GRANT TEMPORARY ON DATABASE")));
  // Refused before migrating: no table was made.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Connection> as_role,
                         Connection::Open(role_uri));
    ASSERT_OK_AND_ASSIGN(
        const int64_t tables,
        as_role->QueryInt64("SELECT count(*) FROM pg_tables"
                            " WHERE tablename = 'change_log'"));
    EXPECT_EQ(tables, 0);
  }
  ASSERT_OK(
      run(absl::StrCat("GRANT TEMPORARY ON DATABASE ", name, " TO ", name)));
  EXPECT_OK(PostgresBackend::Open(options).status());
  EXPECT_OK(run(absl::StrCat("DROP DATABASE ", name)));
  EXPECT_OK(run(absl::StrCat("DROP ROLE ", name)));
}

// A read-only replica (PostgresBackend::Options::read_only) on a role that
// may only SELECT: it reads what the owner wrote, refuses writes before
// the server sees them, and its sessions refuse them too. Without
// read_only, such a role is refused at Open with what to do.
TEST_F(PostgresRecoveryTest, AReadOnlyReplicaOnASelectOnlyRoleOnlyReads) {
  {
    ASSERT_OK_AND_ASSIGN(auto write, backend_->BeginWrite());
    ASSERT_OK(write->InsertDataSource(SourceRow("written", At(1))));
    ASSERT_OK(write->Commit());
  }
  const std::string reader_uri = RoleOnSchema("reader", "SELECT");
  PostgresBackend::Options options;
  options.uri = reader_uri;
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--read_only")));

  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresBackend> replica,
                       PostgresBackend::Open(options));
  EXPECT_FALSE(replica->created());
  {
    ASSERT_OK_AND_ASSIGN(auto read, replica->BeginRead());
    ASSERT_OK_AND_ASSIGN(const DataSourceRow written,
                         read->GetDataSource("ds_written"));
    EXPECT_EQ(written.name, "written");
  }
  const absl::StatusOr<std::unique_ptr<WriteTransaction>> write =
      replica->BeginWrite();
  EXPECT_THAT(write.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(common::ReasonOf(write.status()),
            std::string(common::reason::kDatabaseReadOnly));
  EXPECT_OK(replica->CheckHealth());

  // Its sessions are read-only whatever the role may do: with the owner's
  // role, the read-only key store is refused a new key by the server.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresApiKeyStore> owner_keys,
                       PostgresApiKeyStore::Open(UriAs(OwnerRole(), schema_)));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<PostgresApiKeyStore> read_only_keys,
      PostgresApiKeyStore::Open(UriAs(OwnerRole(), schema_),
                                PostgresApiKeyStore::Options{true}));
  const std::string secret(64, 'a');
  const absl::Status refused =
      read_only_keys
          ->CreateApiKey("ops", ApiKeyRole::kAdmin, secret, At(2),
                         ApiKeyStore::Creation::kAny)
          .status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(common::ReasonOf(refused),
            std::string(common::reason::kDatabaseReadOnly));
  ASSERT_OK_AND_ASSIGN(const std::vector<ApiKey> stored,
                       owner_keys->LoadAllApiKeys());
  EXPECT_THAT(stored, IsEmpty());
  EXPECT_OK(read_only_keys->LoadAllApiKeys().status());
  // The owner's role, writable, takes the same key.
  EXPECT_OK(owner_keys
                ->CreateApiKey("ops", ApiKeyRole::kAdmin, secret, At(2),
                               ApiKeyStore::Creation::kAny)
                .status());

  // A role whose sessions are read-only (a setting of the role or of the
  // database) is refused without read_only too, before it writes anything.
  PostgresBackend::Options sessions;
  sessions.uri = RoleOnSchema("rosessions", "SELECT, INSERT, UPDATE, DELETE");
  ASSERT_OK(admin_->Execute(
      absl::StrCat("ALTER ROLE ", schema_,
                   "_rosessions SET default_transaction_read_only = on")
          .c_str()));
  EXPECT_THAT(PostgresBackend::Open(sessions).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("default_transaction_read_only")));
}

// A read-only replica migrates nothing: it needs the schema at its build's
// version, and says what to run otherwise.
TEST_F(PostgresRecoveryTest, AReadOnlyReplicaNeedsTheSchemaAtItsVersion) {
  PostgresBackend::Options options;
  options.read_only = true;
  const std::string empty = absl::StrCat(schema_, "_empty");
  ASSERT_OK(admin_->Execute(absl::StrCat("CREATE SCHEMA ", empty).c_str()));
  options.uri = UriAs(OwnerRole(), empty);
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("without --read_only")));
  ASSERT_OK_AND_ASSIGN(
      const int64_t tables,
      admin_->QueryInt64(absl::StrCat("SELECT count(*) FROM pg_tables WHERE "
                                      "schemaname = '",
                                      empty, "'")
                             .c_str()));
  EXPECT_EQ(tables, 0);
  EXPECT_OK(admin_->Execute(absl::StrCat("DROP SCHEMA ", empty).c_str()));

  options.uri = UriAs(OwnerRole(), schema_);
  const auto set_version = [&](int version) {
    ASSERT_OK(
        admin_->Execute(absl::StrCat("UPDATE ", schema_,
                                     ".schema_version SET version = ", version)
                            .c_str()));
  };
  const int latest = postgres::LatestSchemaVersion();
  set_version(latest - 1);
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("without --read_only migrates it")));
  set_version(latest + 1);
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("upgrade recurrentd")));
  set_version(latest);
  EXPECT_OK(PostgresBackend::Open(options).status());
}

// A role that may read and write the tables but not create any (no CREATE
// on the schema; the owner migrated it) runs a writable replica.
TEST_F(PostgresRecoveryTest, ARoleWithoutCreateRunsACurrentSchema) {
  PostgresBackend::Options options;
  options.uri = RoleOnSchema("writer", "SELECT, INSERT, UPDATE, DELETE");
  // It cannot migrate an older schema, and says so before trying.
  const auto set_version = [&](int version) {
    ASSERT_OK(
        admin_->Execute(absl::StrCat("UPDATE ", schema_,
                                     ".schema_version SET version = ", version)
                            .c_str()));
  };
  set_version(postgres::LatestSchemaVersion() - 1);
  EXPECT_THAT(PostgresBackend::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the role that owns the schema")));
  set_version(postgres::LatestSchemaVersion());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PostgresBackend> writer,
                       PostgresBackend::Open(options));
  EXPECT_FALSE(writer->created());
  {
    ASSERT_OK_AND_ASSIGN(auto write, writer->BeginWrite());
    ASSERT_OK(write->InsertDataSource(SourceRow("by_writer", At(1))));
    ASSERT_OK(write->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto read, backend_->BeginRead());
  EXPECT_OK(read->GetDataSource("ds_by_writer").status());
}

}  // namespace
}  // namespace recurrent::persistence
