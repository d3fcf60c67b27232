// ConnectionPool (persistence/postgres_pool.h) without a server: what a
// caller is told when the database cannot be reached, and how long that
// takes when it is silent.
#include "persistence/postgres_pool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

// A server that accepts the connection and then says nothing (a hung host,
// a half-open path): the default connect_timeout (10 s) ends the attempt.
// Without it libpq waits for the server's answer for as long as TCP allows.
TEST(PostgresPoolTest, ASilentServerFailsTheConnectionWithinTheDefaultTimeout) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(listen(listener, 4), 0);  // the kernel accepts; nobody answers
  const std::string uri =
      absl::StrCat("postgresql://recurrent@127.0.0.1:", ntohs(address.sin_port),
                   "/recurrent?sslmode=disable");
  ConnectionPool pool(uri, 1, absl::Seconds(1));
  const absl::Time start = absl::Now();
  const absl::Status status = pool.Acquire().status();
  const absl::Duration took = absl::Now() - start;
  close(listener);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_GE(took, absl::Seconds(9));
  EXPECT_LT(took, absl::Seconds(20));
}

}  // namespace
}  // namespace recurrent::persistence::postgres
