// LatencyHistogram: a log-linear histogram of latencies in microseconds
// (HdrHistogram-like), for the load generator (bench/loadgen/loadgen.cc).
//
// Values below 128 µs are exact; above, each power of two is split into 64
// buckets, so a reported percentile is within 1.6 % of the true value. Up to
// about 1.1 hours. Fixed size (a few KB); recording is O(1) and allocates
// nothing.
//
// Not thread-safe: each recording thread owns one; Merge() them at the end.
#ifndef RECURRENT_BENCH_LOADGEN_HISTOGRAM_H_
#define RECURRENT_BENCH_LOADGEN_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace recurrent::bench {

class LatencyHistogram {
 public:
  // Records one latency; negative values count as 0.
  void Record(int64_t micros);
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_;
  }
  // The latency at or below which `fraction` (0..1) of the recorded values
  // fall (the bucket's upper bound); 0 if empty.
  int64_t Percentile(double fraction) const;

 private:
  static constexpr int kSubBits = 6;  // 64 buckets per power of two
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kLinear = 2 * kSub;  // 0..127 exact
  static constexpr int kMaxExponent = 32;   // 2^32 µs
  static constexpr int kBuckets = kLinear + (kMaxExponent - 7) * kSub;

  static int BucketOf(int64_t micros);
  static int64_t UpperBound(int bucket);

  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t max_ = 0;
};

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_LOADGEN_HISTOGRAM_H_
