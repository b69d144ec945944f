// The lag exporter's series over time: a failed reading drops the stale numbers (Prometheus'
// exporter convention) and says so with ebb_group_lag_up and the last success's time.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "ebb/metrics/group_lag_metrics.h"

namespace ebb::metrics {
namespace {

lag::GroupLag reading(int32_t partitions, int64_t lagEach) {
  lag::GroupLag lag{.group = "g", .state = "Stable", .type = "Consumer", .members = 1};
  for (int32_t p = 0; p < partitions; ++p) {
    lag.partitions.push_back({.topic = "t", .partition = p, .logEnd = 100, .lag = lagEach});
  }
  lag::summarize(lag);
  return lag;
}

std::string scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(LagExporterTest, AFailedReadingDropsTheStaleSeries) {
  prometheus::Registry registry;
  LagExporter exporter(registry, "g");
  exporter.published(reading(2, 7), 1'700'000'000.0);
  auto text = scrape(registry);
  EXPECT_NE(
      text.find("ebb_group_partition_lag_messages{group=\"g\",partition=\"1\",topic=\"t\"} 7"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("ebb_group_lag_messages{group=\"g\"} 14"), std::string::npos) << text;
  EXPECT_NE(text.find("ebb_group_lag_up{group=\"g\"} 1"), std::string::npos) << text;

  exporter.failed();
  text = scrape(registry);
  EXPECT_EQ(text.find("ebb_group_partition_lag_messages{"), std::string::npos) << text;
  EXPECT_EQ(text.find("ebb_group_lag_messages{"), std::string::npos) << text;
  EXPECT_NE(text.find("ebb_group_lag_up{group=\"g\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("ebb_group_lag_last_success_timestamp_seconds{group=\"g\"} 1700000000"),
            std::string::npos)
      << text;

  exporter.published(reading(2, 3), 1'700'000'010.0);
  text = scrape(registry);
  EXPECT_NE(text.find("ebb_group_lag_up{group=\"g\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ebb_group_lag_messages{group=\"g\"} 6"), std::string::npos) << text;
}

TEST(LagExporterTest, APartitionGoneFromTheReadingIsNotLeftBehind) {
  prometheus::Registry registry;
  LagExporter exporter(registry, "g");
  exporter.published(reading(3, 1), 1.0);
  exporter.published(reading(2, 1), 2.0);
  const auto text = scrape(registry);
  EXPECT_NE(text.find("partition=\"1\""), std::string::npos) << text;
  EXPECT_EQ(text.find("partition=\"2\""), std::string::npos) << text;
}

}  // namespace
}  // namespace ebb::metrics
