// CallLimiter: the bound on calls held at once, and its fairness.
#include "service/call_limiter.h"

#include "gtest/gtest.h"

namespace recurrent::service {
namespace {

TEST(CallLimiterTest, RefusesBeyondTheBoundExceptAConnectionsFirstTwo) {
  CallLimiter limiter(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_FALSE(limiter.TryAdmit("greedy"));
  // Another connection is admitted while it holds fewer than two, even
  // with both unanswered.
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  EXPECT_FALSE(limiter.TryAdmit("polite"));
  EXPECT_EQ(limiter.held(), 5u);
  limiter.Release("polite", /*answered=*/false);
  EXPECT_TRUE(limiter.TryAdmit("polite"));
  // Below the bound, anyone.
  limiter.Release("greedy", false);
  limiter.Release("greedy", false);
  limiter.Release("polite", false);
  limiter.Release("polite", false);
  EXPECT_EQ(limiter.held(), 1u);
  EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_TRUE(limiter.TryAdmit("greedy"));
  EXPECT_FALSE(limiter.TryAdmit("greedy"));
}

// A client calling one at a time: each call answered before the next is
// sent, but gRPC reports them done (Release) late under a flood.
TEST(CallLimiterTest, AConnectionWithEveryCallAnsweredGetsUpToFour) {
  CallLimiter limiter(1);
  EXPECT_TRUE(limiter.TryAdmit("flood"));
  EXPECT_TRUE(limiter.TryAdmit("flood"));
  EXPECT_FALSE(limiter.TryAdmit("flood"));
  // The flood's calls are answered but it keeps sending: once it has an
  // unanswered call again it is back to two.
  limiter.Answered("flood");
  limiter.Answered("flood");
  EXPECT_TRUE(limiter.TryAdmit("flood"));
  EXPECT_FALSE(limiter.TryAdmit("flood"));

  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(limiter.TryAdmit("sequential")) << i;
    limiter.Answered("sequential");
  }
  EXPECT_FALSE(limiter.TryAdmit("sequential"));  // four held, none done
  limiter.Release("sequential", /*answered=*/true);
  EXPECT_TRUE(limiter.TryAdmit("sequential"));
  // With one call unanswered, it holds four: refused.
  EXPECT_FALSE(limiter.TryAdmit("sequential"));
  limiter.Release("sequential", /*answered=*/false);  // e.g. cancelled
  EXPECT_TRUE(limiter.TryAdmit("sequential"));
  EXPECT_EQ(limiter.held(), 3u + 4u);
}

TEST(CallLimiterTest, ZeroMeansNoBound) {
  CallLimiter limiter(0);
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(limiter.TryAdmit("c"));
  EXPECT_EQ(limiter.held(), 10000u);
}

}  // namespace
}  // namespace recurrent::service
