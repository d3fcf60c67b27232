// Saturating integer arithmetic, header-only.
#ifndef RECURRENT_COMMON_SATURATING_H_
#define RECURRENT_COMMON_SATURATING_H_

#include <cstdint>
#include <limits>

namespace recurrent::common {

// a + b, clamped to the int64 range instead of overflowing: amounts are
// bounded (engine::kMaxAmountInCents), but sums over many of them, and MRR
// normalized from short service periods, need not be.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

// a - b, clamped likewise.
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_SATURATING_H_
