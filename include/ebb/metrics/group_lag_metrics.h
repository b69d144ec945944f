// Publishes group lag readings as Prometheus gauges: `ebb lag --http` is a lag exporter.
#pragma once

#include "ebb/lag/group_lag.h"

namespace prometheus {
class Registry;
}

namespace ebb::metrics {

// Sets every gauge from the reading (labels group, topic, partition; totals by group and topic).
void publish(prometheus::Registry& registry, const lag::GroupLag& lag);

}  // namespace ebb::metrics
