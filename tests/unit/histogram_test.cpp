#include "ebb/latency/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ebb::latency {
namespace {

TEST(HistogramTest, EmptyHistogramReportsZero) {
  Histogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.percentile(99), 0);
  EXPECT_EQ(histogram.max(), 0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram histogram;
  for (int v = 1; v <= 1000; ++v) histogram.record(v);
  EXPECT_EQ(histogram.percentile(50), 500);
  EXPECT_EQ(histogram.percentile(99), 990);
  EXPECT_EQ(histogram.percentile(100), 1000);
  EXPECT_EQ(histogram.min(), 1);
  EXPECT_DOUBLE_EQ(histogram.mean(), 500.5);
}

// Against exact percentiles of a sorted sample: the relative error stays within the bucket width.
TEST(HistogramTest, PercentilesWithinOneTenthPercentOverSixDecades) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(std::log(2e6), 1.5);  // around 2 ms, long tail
  std::vector<int64_t> values;
  Histogram histogram;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<int64_t>(latency(random));
    values.push_back(v);
    histogram.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank =
        static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(values.size()))) - 1;
    const auto exact = static_cast<double>(values[rank]);
    const auto estimate = static_cast<double>(histogram.percentile(p));
    EXPECT_NEAR(estimate, exact, exact * 0.002) << "p" << p;
  }
  EXPECT_EQ(histogram.max(), values.back());
}

TEST(HistogramTest, OutOfRangeValuesAreClampedNotLost) {
  Histogram histogram;
  histogram.record(-5);
  histogram.record(Histogram::kMaxTrackable * 4);
  EXPECT_EQ(histogram.count(), 2u);
  EXPECT_EQ(histogram.min(), 0);
  EXPECT_EQ(histogram.max(), Histogram::kMaxTrackable - 1);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (int64_t v = 0; v < 100'000; v += 7) {
    (v % 2 == 0 ? a : b).record(v * 1000);
    all.record(v * 1000);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (const double p : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
  a.reset();
  EXPECT_EQ(a.count(), 0u);
}

}  // namespace
}  // namespace ebb::latency
