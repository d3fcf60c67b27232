#include "tests/testing/backends.h"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/postgres_api_key_store.h"
#include "persistence/postgres_backend.h"
#include "persistence/postgres_connection.h"
#include "persistence/sqlite_api_key_store.h"
#include "persistence/sqlite_backend.h"

namespace recurrent::testing {
namespace {

absl::StatusOr<std::unique_ptr<persistence::Backend>> OpenSqlite(
    const std::string& dir) {
  persistence::SqliteBackend::Options options;
  options.path = absl::StrCat(dir, "/recurrent.db");
  options.reader_pool_size = 2;
  absl::StatusOr<std::unique_ptr<persistence::SqliteBackend>> backend =
      persistence::SqliteBackend::Open(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<persistence::Backend>(*std::move(backend));
}

// The server of RECURRENT_PG_URI (scripts/test starts a throwaway one), or
// empty: then the PostgreSQL backend is not tested.
std::string PostgresUri() {
  const char* uri = std::getenv("RECURRENT_PG_URI");
  return uri == nullptr ? "" : uri;
}

// Each folder gets a schema of its own on the shared test server (cheaper
// than a database per test); its name is kept in the folder, so that
// opening the folder again opens the same data. Returns the URI that
// selects it.
absl::StatusOr<std::string> PostgresSchemaUri(const std::string& dir) {
  const std::string name_file = absl::StrCat(dir, "/postgres_schema");
  std::string schema;
  if (std::FILE* in = std::fopen(name_file.c_str(), "r")) {
    char buffer[64] = {};
    if (std::fgets(buffer, sizeof(buffer), in) != nullptr) schema = buffer;
    std::fclose(in);
  }
  if (schema.empty()) {
    // The folder's random suffix (MakeTempDir, mkdtemp) names the schema.
    std::string suffix = dir.substr(dir.find_last_of('/') + 1);
    for (char& c : suffix) {
      c = std::isalnum(static_cast<unsigned char>(c))
              ? static_cast<char>(std::tolower(c))
              : '_';
    }
    schema = absl::StrCat("t_", suffix, "_", getpid());
    absl::StatusOr<std::unique_ptr<persistence::postgres::Connection>> admin =
        persistence::postgres::Connection::Open(PostgresUri());
    if (!admin.ok()) return admin.status();
    absl::Status created = (*admin)->Execute(
        absl::StrCat("CREATE SCHEMA ", schema).c_str());
    if (!created.ok()) return created;
    std::FILE* out = std::fopen(name_file.c_str(), "w");
    if (out == nullptr) return absl::InternalError("cannot write " + name_file);
    std::fputs(schema.c_str(), out);
    std::fclose(out);
  }
  // The schema names the connections too (application_name), so that a
  // test can find its own in pg_stat_activity.
  const std::string uri = PostgresUri();
  return absl::StrCat(uri, uri.find('?') == std::string::npos ? "?" : "&",
                      "options=-csearch_path%3D", schema,
                      "&application_name=", schema);
}

absl::StatusOr<std::unique_ptr<persistence::Backend>> OpenPostgres(
    const std::string& dir) {
  absl::StatusOr<std::string> uri = PostgresSchemaUri(dir);
  if (!uri.ok()) return uri.status();
  persistence::PostgresBackend::Options options;
  options.uri = *uri;
  options.pool_size = 4;
  // Small, so that every test writing more change rows than this also
  // runs the path of the large writes (rows waiting in a temporary table).
  options.change_rows_in_memory = 3;
  absl::StatusOr<std::unique_ptr<persistence::PostgresBackend>> backend =
      persistence::PostgresBackend::Open(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<persistence::Backend>(*std::move(backend));
}

// A run asked for PostgreSQL (RECURRENT_TEST_BACKEND=postgres) with no
// server to use: the whole binary is skipped (ctest reads exit code 77 as
// skipped; tests/CMakeLists.txt).
void SkipUnlessPostgresAvailable() {
  const char* wanted = std::getenv("RECURRENT_TEST_BACKEND");
  if (wanted != nullptr && std::string(wanted) == "postgres" &&
      PostgresUri().empty()) {
    std::fprintf(stderr,
                 "RECURRENT_TEST_BACKEND=postgres needs RECURRENT_PG_URI "
                 "(scripts/with-postgres); skipped\n");
    std::exit(77);
  }
}

absl::StatusOr<std::unique_ptr<persistence::ApiKeyStore>> OpenSqliteKeys(
    const std::string& dir) {
  absl::StatusOr<std::unique_ptr<persistence::SqliteApiKeyStore>> keys =
      persistence::SqliteApiKeyStore::Open(absl::StrCat(dir, "/recurrent.db"));
  if (!keys.ok()) return keys.status();
  return std::unique_ptr<persistence::ApiKeyStore>(*std::move(keys));
}

absl::StatusOr<std::unique_ptr<persistence::ApiKeyStore>> OpenPostgresKeys(
    const std::string& dir) {
  absl::StatusOr<std::string> uri = PostgresSchemaUri(dir);
  if (!uri.ok()) return uri.status();
  absl::StatusOr<std::unique_ptr<persistence::PostgresApiKeyStore>> keys =
      persistence::PostgresApiKeyStore::Open(*uri);
  if (!keys.ok()) return keys.status();
  return std::unique_ptr<persistence::ApiKeyStore>(*std::move(keys));
}

}  // namespace

std::string PostgresTestSchema(const std::string& dir) {
  const absl::StatusOr<std::string> uri = PostgresSchemaUri(dir);
  if (!uri.ok()) return "";
  return uri->substr(uri->rfind('=') + 1);
}

std::string TestBackendName(const ::testing::TestParamInfo<TestBackend>& info) {
  return info.param.name;
}

std::vector<TestBackend> TestBackends() {
  SkipUnlessPostgresAvailable();
  std::vector<TestBackend> backends = {
      TestBackend{"Sqlite", &OpenSqlite, &OpenSqliteKeys}};
  if (!PostgresUri().empty()) {
    backends.push_back(TestBackend{"Postgres", &OpenPostgres, &OpenPostgresKeys});
  }
  return backends;
}

TestBackend DefaultTestBackend() {
  SkipUnlessPostgresAvailable();
  const char* name = std::getenv("RECURRENT_TEST_BACKEND");
  const std::string wanted = name == nullptr || *name == '\0' ? "sqlite" : name;
  for (TestBackend& backend : TestBackends()) {
    std::string lower = backend.name;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower == wanted) return backend;
  }
  std::fprintf(stderr, "RECURRENT_TEST_BACKEND=%s: no such backend\n",
               wanted.c_str());
  std::abort();
}

bool DefaultTestBackendIsSqlite() {
  return DefaultTestBackend().name == "Sqlite";
}

std::string MakeTempDir() {
  std::string pattern = absl::StrCat(::testing::TempDir(), "recurrent_XXXXXX");
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
  return pattern;
}

}  // namespace recurrent::testing
