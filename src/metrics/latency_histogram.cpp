#include "ebb/metrics/latency_histogram.h"

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>

namespace ebb::metrics {

const std::vector<double>& latencyBuckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015,
                                            0.02,   0.03,  0.05,  0.075, 0.1,   0.15,   0.2,  0.3,
                                            0.5,    0.75,  1,     1.5,   2,     3,      5,    7.5,
                                            10,     15,    20,    30,    45,    60};
  return kBuckets;
}

void LatencyHistogram::Batch::add(int64_t nanos) {
  const double seconds = static_cast<double>(std::max<int64_t>(nanos, 0)) / 1e9;
  const auto& bounds = latencyBuckets();
  // Prometheus buckets are "less than or equal": the first bound not below the value.
  const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
  counts_[static_cast<size_t>(bucket)] += 1;
  sumSeconds_ += seconds;
  ++count_;
}

LatencyHistogram::LatencyHistogram(prometheus::Registry& registry, const std::string& name,
                                   const std::string& help, const Labels& labels)
    : histogram_(&prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add(
          labels, latencyBuckets())) {}

void LatencyHistogram::publish(Batch& batch) {
  if (batch.empty()) return;
  histogram_->ObserveMultiple(batch.counts_, batch.sumSeconds_);
  std::fill(batch.counts_.begin(), batch.counts_.end(), 0.0);
  batch.sumSeconds_ = 0;
  batch.count_ = 0;
}

}  // namespace ebb::metrics
