#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace recurrent::bench {

int LatencyHistogram::BucketOf(int64_t micros) {
  if (micros < kLinear) return static_cast<int>(std::max<int64_t>(micros, 0));
  // 2^exponent <= micros < 2^(exponent+1), exponent >= 7.
  const int exponent = 63 - __builtin_clzll(static_cast<uint64_t>(micros));
  if (exponent >= kMaxExponent) return kBuckets - 1;
  const int sub =
      static_cast<int>((micros >> (exponent - kSubBits)) & (kSub - 1));
  return kLinear + (exponent - 7) * kSub + sub;
}

int64_t LatencyHistogram::UpperBound(int bucket) {
  if (bucket < kLinear) return bucket;
  const int exponent = 7 + (bucket - kLinear) / kSub;
  const int64_t sub = (bucket - kLinear) % kSub;
  const int64_t width = int64_t{1} << (exponent - kSubBits);
  return (int64_t{1} << exponent) + (sub + 1) * width - 1;
}

void LatencyHistogram::Record(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  ++counts_[BucketOf(micros)];
  ++count_;
  sum_ += micros;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Percentile(double fraction) const {
  if (count_ == 0) return 0;
  const int64_t rank = std::max<int64_t>(
      1,
      static_cast<int64_t>(std::ceil(fraction * static_cast<double>(count_))));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperBound(i), max_);
  }
  return max_;
}

}  // namespace recurrent::bench
