#include "tests/testing/backends.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
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

}  // namespace

std::string TestBackendName(const ::testing::TestParamInfo<TestBackend>& info) {
  return info.param.name;
}

std::vector<TestBackend> TestBackends() {
  return {TestBackend{"Sqlite", &OpenSqlite}};
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
