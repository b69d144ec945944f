// Publishes a latency histogram's percentiles (50, 99, 99.9) as Prometheus gauges in seconds, with
// a "percentile" label. Histograms are recorded on the hot path without locks; these gauges are
// refreshed about once a second, so Prometheus' own (mutex-guarded) histogram type never sits on
// the hot path.
#pragma once

#include <array>
#include <map>
#include <string>

#include "ebb/latency/histogram.h"

namespace prometheus {
class Gauge;
class Registry;
}  // namespace prometheus

namespace ebb::metrics {

class LatencyGauges {
 public:
  LatencyGauges(prometheus::Registry& registry, const std::string& name, const std::string& help,
                const std::map<std::string, std::string>& labels);
  void update(const latency::Histogram& histogram);

 private:
  std::array<prometheus::Gauge*, 3> quantiles_{};
};

}  // namespace ebb::metrics
