// The backends tests run against: every test that is not about one backend
// is written once and instantiated for each of them.
//
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest,
//                            ::testing::ValuesIn(TestBackends()),
//                            TestBackendName);
//
// Tests that need one backend (a server under test, a benchmark) take
// DefaultTestBackend(): the one named by the RECURRENT_TEST_BACKEND
// environment variable ("sqlite", the default, or "postgres"), so that
// ctest can run the same test binary once per backend.
#ifndef RECURRENT_TESTS_TESTING_BACKENDS_H_
#define RECURRENT_TESTS_TESTING_BACKENDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "persistence/api_key_store.h"
#include "persistence/backend.h"

namespace recurrent::testing {

struct TestBackend {
  std::string name;
  // Opens the backend's database kept in the (existing, initially empty)
  // folder `dir`, creating it on first use. Opening the same folder again
  // must see the data written before (durability).
  std::function<absl::StatusOr<std::unique_ptr<persistence::Backend>>(
      const std::string& dir)>
      open;
  // Opens the API key store of the database in `dir` (after `open`).
  std::function<absl::StatusOr<std::unique_ptr<persistence::ApiKeyStore>>(
      const std::string& dir)>
      open_keys;
};

// Test names and failure messages show the backend's name.
inline void PrintTo(const TestBackend& backend, std::ostream* os) {
  *os << backend.name;
}
std::string TestBackendName(const ::testing::TestParamInfo<TestBackend>& info);

// Every backend available to this test run: SQLite, and PostgreSQL when
// RECURRENT_PG_URI names a server (scripts/test starts a throwaway one; each
// test folder gets a schema of its own there).
std::vector<TestBackend> TestBackends();

// The backend named by RECURRENT_TEST_BACKEND (default "sqlite").
TestBackend DefaultTestBackend();
// Whether that is SQLite (tests of SQLite's own behaviour skip otherwise).
bool DefaultTestBackendIsSqlite();

// The schema that holds the PostgreSQL database of the folder `dir` (created
// if it has none yet); the backend's connections carry it as their
// application_name. Empty if the server cannot be reached.
std::string PostgresTestSchema(const std::string& dir);

// Makes a fresh, empty temporary folder; returns its path.
std::string MakeTempDir();

}  // namespace recurrent::testing

#endif  // RECURRENT_TESTS_TESTING_BACKENDS_H_
