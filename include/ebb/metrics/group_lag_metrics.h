// Publishes group lag readings as Prometheus gauges: `ebb lag --http` is a lag exporter.
#pragma once

#include <string>
#include <vector>

#include "ebb/lag/group_lag.h"
#include "ebb/metrics/families.h"

namespace prometheus {
class Registry;
}

namespace ebb::metrics {

// Sets every gauge from the reading (labels group, topic, partition; totals by group and topic).
void publish(prometheus::Registry& registry, const lag::GroupLag& lag);

// The exporter's view of one group over time: readings as gauges, and when a reading fails the
// Prometheus exporter convention instead of stale numbers: the reading's series are dropped,
// ebb_group_lag_up is 0 and ebb_group_lag_last_success_timestamp_seconds says since when.
class LagExporter {
 public:
  LagExporter(prometheus::Registry& registry, std::string group);
  void published(const lag::GroupLag& lag, double epochSeconds);
  void failed();

 private:
  prometheus::Registry& registry_;
  std::string group_;
  std::vector<Labels> partitionSeries_;  // of the last reading, to drop them
  bool groupSeries_ = false;
};

}  // namespace ebb::metrics
