// How a backend splits an MRR sum between its rows and its monthly rollups
// (persistence/mrr_sums.h): every row in [lo, hi) is counted exactly once.
#include "persistence/mrr_sums.h"

#include <cstdint>
#include <random>
#include <utility>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recurrent::persistence {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

int64_t Micros(absl::CivilSecond t) {
  return absl::ToUnixMicros(absl::FromCivil(t, absl::UTCTimeZone()));
}

TEST(MrrMonthOfTest, FirstMicrosecondOfTheUtcMonth) {
  EXPECT_EQ(MrrMonthOf(Micros(absl::CivilSecond(2025, 3, 17, 12, 0, 1)) + 5),
            Micros(absl::CivilSecond(2025, 3, 1)));
  EXPECT_EQ(MrrMonthOf(Micros(absl::CivilSecond(2025, 3, 1))), Micros(absl::CivilSecond(2025, 3, 1)));
  EXPECT_EQ(MrrMonthOf(Micros(absl::CivilSecond(2025, 3, 1)) - 1), Micros(absl::CivilSecond(2025, 2, 1)));
  // Before 1970 too, and the initial state keeps its own month.
  EXPECT_EQ(MrrMonthOf(Micros(absl::CivilSecond(1969, 12, 1)) - 1), Micros(absl::CivilSecond(1969, 11, 1)));
  EXPECT_EQ(MrrMonthOf(kMrrMinMicros), kMrrMinMicros);
}

TEST(PlanMrrSumTest, WholeMonthsFromTheRollupsEndsFromTheRows) {
  const int64_t lo = Micros(absl::CivilSecond(2025, 1, 15));
  const int64_t hi = Micros(absl::CivilSecond(2025, 4, 10));
  const MrrSumPlan plan = PlanMrrSum(lo, hi);
  EXPECT_THAT(plan.rows, ElementsAre(Pair(lo, Micros(absl::CivilSecond(2025, 2, 1))),
                                     Pair(Micros(absl::CivilSecond(2025, 4, 1)), hi)));
  EXPECT_EQ(plan.months_lo, Micros(absl::CivilSecond(2025, 2, 1)));
  EXPECT_EQ(plan.months_hi, Micros(absl::CivilSecond(2025, 4, 1)));
}

TEST(PlanMrrSumTest, MonthBoundsNeedNoRows) {
  const MrrSumPlan plan = PlanMrrSum(Micros(absl::CivilSecond(2025, 1, 1)), Micros(absl::CivilSecond(2025, 7, 1)));
  EXPECT_THAT(plan.rows, IsEmpty());
  EXPECT_EQ(plan.months_lo, Micros(absl::CivilSecond(2025, 1, 1)));
  EXPECT_EQ(plan.months_hi, Micros(absl::CivilSecond(2025, 7, 1)));
}

TEST(PlanMrrSumTest, WithinOneMonthOnlyRows) {
  const int64_t lo = Micros(absl::CivilSecond(2025, 1, 3));
  const int64_t hi = Micros(absl::CivilSecond(2025, 1, 20));
  const MrrSumPlan plan = PlanMrrSum(lo, hi);
  EXPECT_THAT(plan.rows, ElementsAre(Pair(lo, hi)));
  EXPECT_GE(plan.months_lo, plan.months_hi);
}

TEST(PlanMrrSumTest, FromTheBeginningOfTime) {
  const int64_t hi = Micros(absl::CivilSecond(2025, 1, 20));
  const MrrSumPlan plan = PlanMrrSum(kMrrMinMicros, hi);
  EXPECT_THAT(plan.rows, ElementsAre(Pair(Micros(absl::CivilSecond(2025, 1, 1)), hi)));
  EXPECT_EQ(plan.months_lo, kMrrMinMicros);
  EXPECT_EQ(plan.months_hi, Micros(absl::CivilSecond(2025, 1, 1)));
}

// A row at `at` (month MrrMonthOf(at)) is counted once if at is in [lo, hi)
// and never otherwise, for random instants around month ends.
TEST(PlanMrrSumTest, EveryRowCountedExactlyOnce) {
  std::mt19937_64 rng(7);
  const int64_t base = Micros(absl::CivilSecond(2024, 11, 1));
  const int64_t span = int64_t{200} * 86400 * 1000000;
  std::uniform_int_distribution<int64_t> instant(base, base + span);
  const auto random_instant = [&]() -> int64_t {
    // Half the time exactly on a month boundary or one microsecond off it.
    const int64_t t = instant(rng);
    switch (rng() % 4) {
      case 0:
        return MrrMonthOf(t);
      case 1:
        return MrrMonthOf(t) - 1;
      default:
        return t;
    }
  };
  for (int i = 0; i < 20000; ++i) {
    int64_t lo = rng() % 10 == 0 ? kMrrMinMicros : random_instant();
    int64_t hi = random_instant();
    if (lo == hi) continue;
    if (lo > hi) std::swap(lo, hi);
    const MrrSumPlan plan = PlanMrrSum(lo, hi);
    for (int j = 0; j < 20; ++j) {
      const int64_t at = rng() % 10 == 0 ? kMrrMinMicros : random_instant();
      int counted = 0;
      for (const auto& [rows_lo, rows_hi] : plan.rows) {
        ASSERT_LT(rows_lo, rows_hi);
        if (at >= rows_lo && at < rows_hi) ++counted;
      }
      const int64_t month = MrrMonthOf(at);
      if (month >= plan.months_lo && month < plan.months_hi) ++counted;
      ASSERT_EQ(counted, at >= lo && at < hi ? 1 : 0)
          << "lo " << lo << " hi " << hi << " at " << at;
    }
  }
}

}  // namespace
}  // namespace recurrent::persistence
