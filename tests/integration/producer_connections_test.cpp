// A producer over several clients (Producer's `connections`): each partition keeps to one client,
// so its order and the idempotent sequence hold; every report arrives through one poll(), which
// wakes as soon as any client has one; statistics are the clients' sum.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/producer.h"
#include "kafka_environment.h"
#include "test_producer.h"

namespace ebb::kafka {
namespace {

using Clock = std::chrono::steady_clock;

struct Placement {
  int32_t partition;
  int64_t offset;
};

class PlacementLog final : public DeliveryHandler {
 public:
  void onDelivery(const Delivery& delivery) noexcept override {
    if (delivery.error) {
      ++failed;
      return;
    }
    placements[delivery.token] = {delivery.partition, delivery.offset};
  }
  std::map<uint64_t, Placement> placements;  // token -> where it landed
  size_t failed = 0;
};

TEST(ProducerConnectionsTest, PartitionsKeepTheirOrderAcrossClients) {
  constexpr int kPartitions = 12;
  constexpr uint64_t kExplicit = 24'000;  // token < kExplicit: partition token % 12
  constexpr uint64_t kAny = 2'000;        // then keyed and unkeyed ones without a partition
  const auto topic = test::uniqueName("connections");
  AdminClient admin(test::clientConfig());
  admin.createTopic({.name = topic, .partitions = kPartitions});

  auto config = test::clientConfig("connections-producer");
  config.properties["statistics.interval.ms"] = "100";
  PlacementLog log;
  Producer producer(config, &log, 3);
  EXPECT_EQ(producer.connections(), 3);
  EXPECT_TRUE(producer.idempotent());
  const std::string payload(100, 'x');
  for (uint64_t token = 0; token < kExplicit + kAny; ++token) {
    const bool named = token < kExplicit;
    const auto partition = named ? static_cast<int32_t>(token % kPartitions) : kAnyPartition;
    const std::string key = "k" + std::to_string(token % 100);
    const std::optional<std::string_view> keyView =
        !named && token % 2 == 0 ? std::optional<std::string_view>(key) : std::nullopt;
    ASSERT_NO_FATAL_FAILURE(
        test::sendOrFail(producer, topic, partition, keyView, payload, {}, token));
    producer.poll(std::chrono::milliseconds(0));
  }
  ASSERT_TRUE(producer.flush(std::chrono::seconds(60)));
  EXPECT_EQ(producer.outstanding(), 0);
  ASSERT_EQ(log.failed, 0u);
  ASSERT_EQ(log.placements.size(), kExplicit + kAny);

  // Within a partition, the offsets follow the order of the sends.
  std::map<int32_t, int64_t> lastOffset;
  for (uint64_t token = 0; token < kExplicit; ++token) {
    const auto& placement = log.placements.at(token);
    ASSERT_EQ(placement.partition, static_cast<int32_t>(token % kPartitions));
    const auto previous = lastOffset.find(placement.partition);
    if (previous != lastOffset.end()) {
      ASSERT_GT(placement.offset, previous->second) << "partition " << placement.partition;
    }
    lastOffset[placement.partition] = placement.offset;
  }

  // Every client's statistics are in the sum: requests from all three, all of them with an id.
  // The sum's readings are the fewest any client has served, so two more of them can leave the
  // other clients' last readings older than the flush: one taken before a client's producer id
  // arrived still says "WaitTransport" (seen once in a fresh-clone make test). The test waits
  // up to 10 s for every client to read "Assigned".
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  const auto readings = producer.statistics().readings;
  while ((producer.statistics().readings < readings + 2 ||
          producer.statistics().idempotenceState != "Assigned") &&
         Clock::now() < deadline) {
    producer.poll(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(producer.statistics().idempotenceState, "Assigned");
  EXPECT_GE(producer.statistics().produceRequests, 3u);
}

TEST(ProducerConnectionsTest, PollWakesForAReportOfAnyClient) {
  const auto topic = test::uniqueName("connections-wake");
  AdminClient admin(test::clientConfig());
  admin.createTopic({.name = topic, .partitions = 4});
  PlacementLog log;
  Producer producer(test::clientConfig("connections-wake"), &log, 4);
  // Partition 3 goes through the last client; poll() waits on all of them with one timeout.
  for (uint64_t token = 0; token < 20; ++token) {
    ASSERT_NO_FATAL_FAILURE(test::sendOrFail(producer, topic, 3, std::nullopt, "x", {}, token));
    const auto start = Clock::now();
    while (log.placements.count(token) == 0 && Clock::now() - start < std::chrono::seconds(30)) {
      producer.poll(std::chrono::seconds(10));
    }
    ASSERT_EQ(log.placements.count(token), 1u);
    // The first report waits for the producer id; after it, an acknowledgement is ms away, and
    // a poll that slept its whole timeout would take 10 s.
    if (token > 0) {
      EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "token " << token;
    }
  }
}

TEST(ProducerConnectionsTest, ConnectionsOutsideTheRangeAreRefused) {
  for (const int connections : {0, -1, kMaxProducerConnections + 1}) {
    EXPECT_THROW(Producer(test::clientConfig(), nullptr, connections), std::invalid_argument)
        << connections;
  }
}

}  // namespace
}  // namespace ebb::kafka
