// A high-dynamic-range latency histogram (HdrHistogram's log-linear bucketing): constant memory,
// O(1) record with no allocation, about 0.1% relative precision from 1 ns to 4.8 hours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ebb::latency {

class Histogram {
 public:
  Histogram();

  // Records one value in nanoseconds; negative values (clock skew) count as 0, huge ones as the
  // max.
  void record(int64_t nanos);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const;
  // The value at or below which `percent` of the recorded values lie (0 < percent <= 100).
  int64_t percentile(double percent) const;

  static constexpr int64_t kMaxTrackable = int64_t{1} << 44;

 private:
  static size_t indexOf(uint64_t value);
  static uint64_t highestEquivalent(size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace ebb::latency
