#include "ebb/metrics/group_lag_metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ebb/metrics/families.h"

namespace ebb::metrics {

namespace {

// Every gauge a reading sets per partition, and per group: what a failed reading drops.
constexpr const char* kPartitionGauges[] = {
    "ebb_group_partition_lag_messages",     "ebb_group_partition_lag_seconds",
    "ebb_group_partition_committed_offset", "ebb_group_partition_log_end_offset",
    "ebb_group_partition_produce_rate",     "ebb_group_partition_consume_rate"};
constexpr const char* kGroupGauges[] = {"ebb_group_members", "ebb_group_lag_messages",
                                        "ebb_group_max_lag_seconds"};

prometheus::Family<prometheus::Gauge>& family(prometheus::Registry& registry, const char* name) {
  // The help text is the one publish() registered the family with: families are found by name.
  return prometheus::BuildGauge().Name(name).Register(registry);
}

void drop(prometheus::Registry& registry, const char* name, const Labels& labels) {
  auto& series = family(registry, name);
  if (series.Has(labels)) series.Remove(&series.Add(labels));
}

}  // namespace

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

namespace ebb::metrics {

LagExporter::LagExporter(prometheus::Registry& registry, std::string group)
    : registry_(registry), group_(std::move(group)) {}

void LagExporter::published(const lag::GroupLag& lag, double epochSeconds) {
  std::vector<Labels> now;
  for (const auto& row : lag.partitions) {
    now.push_back(
        {{"group", group_}, {"topic", row.topic}, {"partition", std::to_string(row.partition)}});
  }
  // A partition gone from the reading (a topic deleted) is not left behind at its last value.
  for (const auto& labels : partitionSeries_) {
    if (std::find(now.begin(), now.end(), labels) != now.end()) continue;
    for (const char* name : kPartitionGauges) drop(registry_, name, labels);
  }
  publish(registry_, lag);
  partitionSeries_ = std::move(now);
  groupSeries_ = true;
  gauge(registry_, "ebb_group_lag_up", "1 when the last lag reading succeeded, else 0",
        {{"group", group_}})
      .Set(1);
  gauge(registry_, "ebb_group_lag_last_success_timestamp_seconds",
        "When the last lag reading succeeded (epoch seconds)", {{"group", group_}})
      .Set(epochSeconds);
}

void LagExporter::failed() {
  for (const auto& labels : partitionSeries_) {
    for (const char* name : kPartitionGauges) drop(registry_, name, labels);
  }
  partitionSeries_.clear();
  if (groupSeries_) {
    for (const char* name : kGroupGauges) drop(registry_, name, {{"group", group_}});
    groupSeries_ = false;
  }
  gauge(registry_, "ebb_group_lag_up", "1 when the last lag reading succeeded, else 0",
        {{"group", group_}})
      .Set(0);
}

}  // namespace ebb::metrics
