#include "tests/testing/backends.h"

#include <stdlib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "persistence/postgres_backend.h"
#include "persistence/postgres_connection.h"
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
// opening the folder again opens the same data.
absl::StatusOr<std::unique_ptr<persistence::Backend>> OpenPostgres(
    const std::string& dir) {
  const std::string name_file = absl::StrCat(dir, "/postgres_schema");
  std::string schema;
  if (std::FILE* in = std::fopen(name_file.c_str(), "r")) {
    char buffer[64] = {};
    if (std::fgets(buffer, sizeof(buffer), in) != nullptr) schema = buffer;
    std::fclose(in);
  }
  if (schema.empty()) {
    // The folder's random suffix (MakeTempDir) names the schema.
    std::string suffix = dir.substr(dir.find_last_of('/') + 1);
    for (char& c : suffix) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    schema = absl::StrCat("t_", suffix, "_", std::rand());
    for (char& c : schema) c = static_cast<char>(std::tolower(c));
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
  persistence::PostgresBackend::Options options;
  const std::string uri = PostgresUri();
  options.uri = absl::StrCat(uri, uri.find('?') == std::string::npos ? "?" : "&",
                             "options=-csearch_path%3D", schema);
  options.pool_size = 4;
  absl::StatusOr<std::unique_ptr<persistence::PostgresBackend>> backend =
      persistence::PostgresBackend::Open(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<persistence::Backend>(*std::move(backend));
}

}  // namespace

std::string TestBackendName(const ::testing::TestParamInfo<TestBackend>& info) {
  return info.param.name;
}

std::vector<TestBackend> TestBackends() {
  std::vector<TestBackend> backends = {TestBackend{"Sqlite", &OpenSqlite}};
  if (!PostgresUri().empty()) {
    backends.push_back(TestBackend{"Postgres", &OpenPostgres});
  }
  return backends;
}

TestBackend DefaultTestBackend() {
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
