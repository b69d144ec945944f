#include "ebb/latency/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ebb::latency {
namespace {

// 2^10 linear sub-buckets per power of two: values below 1024 are exact, above that each bucket
// spans at most 1/512 of its value.
constexpr unsigned kSubBucketBits = 10;
constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;
constexpr uint64_t kHalfCount = kSubBucketCount / 2;
constexpr unsigned kMaxShift = 44 - kSubBucketBits + 1;
constexpr size_t kBucketCount = (kMaxShift + 1) * kHalfCount + kHalfCount;

}  // namespace

Histogram::Histogram() : counts_(kBucketCount, 0) {}

size_t Histogram::indexOf(uint64_t value) {
  if (value < kSubBucketCount) return static_cast<size_t>(value);
  const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - kSubBucketBits;
  return static_cast<size_t>(shift * kHalfCount + (value >> shift));
}

uint64_t Histogram::highestEquivalent(size_t index) {
  if (index < kSubBucketCount) return index;
  const uint64_t shift = index / kHalfCount - 1;
  const uint64_t subBucket = index - shift * kHalfCount;
  return ((subBucket + 1) << shift) - 1;
}

void Histogram::record(int64_t nanos) {
  const int64_t value = std::clamp<int64_t>(nanos, 0, kMaxTrackable - 1);
  ++counts_[indexOf(static_cast<uint64_t>(value))];
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = std::max(max_, value);
  ++count_;
  sum_ += static_cast<long double>(value);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::reset() { *this = Histogram(); }

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

int64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  const auto target = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= target) {
      return std::clamp(static_cast<int64_t>(highestEquivalent(i)), min_, max_);
    }
  }
  return max_;
}

}  // namespace ebb::latency
