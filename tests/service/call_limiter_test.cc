// CallLimiter: the bound on calls held at once, and its fairness.
#include "service/call_limiter.h"

#include "gtest/gtest.h"

namespace recurrent::service {
namespace {

TEST(CallLimiterTest, RefusesBeyondTheBoundExceptAConnectionsFirstTwo) {
  CallLimiter limiter(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_FALSE(limiter.TryAdmit("greedy"));
  // Another connection is admitted while it holds fewer than two: one
  // calling one at a time whose last call gRPC has not reported done yet
  // (Release comes late under load) still gets its next one in.
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  EXPECT_FALSE(limiter.TryAdmit("polite"));
  EXPECT_EQ(limiter.held(), 5u);
  limiter.Release("polite");
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  // Below the bound, anyone.
  limiter.Release("greedy");
  limiter.Release("greedy");
  limiter.Release("polite");
  limiter.Release("polite");
  EXPECT_EQ(limiter.held(), 1u);
  EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_FALSE(limiter.TryAdmit("greedy"));
}

TEST(CallLimiterTest, ZeroMeansNoBound) {
  CallLimiter limiter(0);
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(limiter.TryAdmit("c"));
  EXPECT_EQ(limiter.held(), 10000u);
}

}  // namespace
}  // namespace recurrent::service
