#include "ebb/metrics/latency_gauges.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace ebb::metrics {
namespace {
constexpr std::array<double, 3> kPercentiles{50, 99, 99.9};
// A "percentile" label, not "quantile": Prometheus reserves that one for summaries, and these are
// gauges read from ebb's HDR histogram (a summary would need a second estimator per message).
constexpr std::array<const char*, 3> kPercentileLabels{"50", "99", "99.9"};
}  // namespace

LatencyGauges::LatencyGauges(prometheus::Registry& registry, const std::string& name,
                             const std::string& help,
                             const std::map<std::string, std::string>& labels) {
  auto& family = prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  for (size_t i = 0; i < quantiles_.size(); ++i) {
    auto withPercentile = labels;
    withPercentile["percentile"] = kPercentileLabels[i];
    quantiles_[i] = &family.Add(withPercentile);
  }
}

void LatencyGauges::update(const latency::Histogram& histogram) {
  for (size_t i = 0; i < quantiles_.size(); ++i) {
    quantiles_[i]->Set(static_cast<double>(histogram.percentile(kPercentiles[i])) / 1e9);
  }
}

}  // namespace ebb::metrics

#include "ebb/metrics/families.h"

#include <prometheus/counter.h>

namespace ebb::metrics {

prometheus::Counter& counter(prometheus::Registry& registry, const std::string& name,
                             const std::string& help, const Labels& labels) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add(labels);
}

prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help, const Labels& labels) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(labels);
}

}  // namespace ebb::metrics
