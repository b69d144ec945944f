#include "ebb/metrics/group_lag_metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

#include "ebb/metrics/families.h"

namespace ebb::metrics {

void publish(prometheus::Registry& registry, const lag::GroupLag& lag) {
  const std::string& group = lag.group;
  gauge(registry, "ebb_group_members", "Members of the consumer group", {{"group", group}})
      .Set(static_cast<double>(lag.members));
  gauge(registry, "ebb_group_lag_messages", "Messages not yet committed by the group, all topics",
        {{"group", group}})
      .Set(static_cast<double>(lag.lag));
  gauge(registry, "ebb_group_max_lag_seconds",
        "Age of the oldest message the group has not committed, over all partitions",
        {{"group", group}})
      .Set(lag.maxLagSeconds);
  for (const auto& row : lag.partitions) {
    const Labels labels{
        {"group", group}, {"topic", row.topic}, {"partition", std::to_string(row.partition)}};
    gauge(registry, "ebb_group_partition_lag_messages",
          "Log-end offset minus the group's committed offset", labels)
        .Set(static_cast<double>(row.lag));
    gauge(registry, "ebb_group_partition_lag_seconds",
          "How long the oldest uncommitted message has waited", labels)
        .Set(row.lagSeconds);
    gauge(registry, "ebb_group_partition_committed_offset", "The group's committed offset", labels)
        .Set(static_cast<double>(row.committed));
    gauge(registry, "ebb_group_partition_log_end_offset", "The partition's log-end offset", labels)
        .Set(static_cast<double>(row.logEnd));
    gauge(registry, "ebb_group_partition_produce_rate",
          "Messages appended per second over the rate window", labels)
        .Set(row.produceRate);
    gauge(registry, "ebb_group_partition_consume_rate",
          "Messages committed by the group per second over the rate window", labels)
        .Set(row.consumeRate);
  }
}

}  // namespace ebb::metrics
