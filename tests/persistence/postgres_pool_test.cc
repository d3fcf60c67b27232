// ConnectionPool (persistence/postgres_pool.h) without a server: what a
// caller is told when the database cannot be reached.
#include "persistence/postgres_pool.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recurrent::persistence::postgres {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PostgresPoolTest, AnUnreachableServerIsUnavailableWithoutItsAddress) {
  // Port 1 on loopback refuses at once.
  ConnectionPool pool(
      "postgresql://secret-role@127.0.0.1:1/recurrent?connect_timeout=5", 2,
      absl::Seconds(1));
  for (int attempt = 0; attempt < 2; ++attempt) {  // the unpooled path too
    const absl::Status status =
        attempt == 0 ? pool.Acquire().status() : pool.OpenUnpooled().status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    const std::string message(status.message());
    EXPECT_THAT(message, HasSubstr("cannot connect to the database"));
    EXPECT_THAT(message, Not(HasSubstr("127.0.0.1")));
    EXPECT_THAT(message, Not(HasSubstr("secret-role")));
    EXPECT_THAT(message, Not(HasSubstr("port")));
  }
}

}  // namespace
}  // namespace recurrent::persistence::postgres
