// The whole path once: admin creates a 12-partition topic, a producer sends 100,000 keyed messages
// with delivery reports checked, a group consumer reads all of them back; for both group protocols.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/consumer.h"
#include "ebb/kafka/producer.h"
#include "ebb/latency/envelope.h"
#include "kafka_environment.h"
#include "test_producer.h"

namespace ebb::kafka {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 12;
constexpr uint64_t kMessages = 100'000;
constexpr uint64_t kKeys = 1000;

std::string keyOf(uint64_t seq) { return "key-" + std::to_string(seq % kKeys); }

int64_t sum(const std::map<TopicPartition, int64_t>& offsets) {
  return std::accumulate(offsets.begin(), offsets.end(), int64_t{0},
                         [](int64_t total, const auto& entry) { return total + entry.second; });
}

// A group reads the topic in batches: every message once, each partition in offset order,
// never more than asked for, and more than one at a time once messages are fetched.
void readInBatches(const std::string& topic, const std::string& group, GroupProtocol protocol,
                   uint64_t messages) {
  Consumer batched(test::clientConfig("slice-batched"),
                   ConsumerOptions{.groupId = group, .protocol = protocol});
  batched.subscribe({topic});
  constexpr size_t kMax = 100;
  std::vector<Message> batch;
  std::map<int32_t, int64_t> lastOffset;
  uint64_t read = 0;
  size_t largest = 0;
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  while (read < messages && Clock::now() < deadline) {
    batch.clear();
    const size_t appended = batched.pollBatch(batch, kMax, std::chrono::milliseconds(200));
    ASSERT_EQ(appended, batch.size());
    ASSERT_LE(appended, kMax);
    largest = std::max(largest, appended);
    for (const auto& message : batch) {
      ASSERT_FALSE(message.isError()) << message.error().message();
      const auto previous = lastOffset.find(message.partition());
      if (previous != lastOffset.end()) {
        ASSERT_EQ(message.offset(), previous->second + 1);
      }
      lastOffset[message.partition()] = message.offset();
      ++read;
    }
  }
  EXPECT_EQ(read, messages);
  EXPECT_EQ(largest, kMax);
  ASSERT_FALSE(batched.close());
}

class VerticalSliceTest : public ::testing::TestWithParam<GroupProtocol> {};

TEST_P(VerticalSliceTest, EveryKeyedMessageArrivesInItsKeysPartition) {
  const auto protocol = GetParam();
  const auto topic = test::uniqueName(std::string("slice-") + std::string(toString(protocol)));
  const auto group = topic + "-group";
  AdminClient admin(test::clientConfig());
  admin.createTopic({.name = topic, .partitions = kPartitions});

  // Produce: every message acknowledged, and each key always lands in one partition.
  test::DeliveryLog deliveries;
  {
    Producer producer(test::clientConfig("slice-producer"), &deliveries);
    const std::string payload(100, 'x');
    for (uint64_t seq = 0; seq < kMessages; ++seq) {
      const latency::DecimalField seqField(static_cast<int64_t>(seq));
      const latency::DecimalField timeField(latency::epochNanos());
      const Header headers[] = {{latency::kSeqHeader, seqField.view()},
                                {latency::kSendTimeHeader, timeField.view()},
                                {latency::kProducerHeader, "slice"}};
      const auto key = keyOf(seq);
      ASSERT_NO_FATAL_FAILURE(
          test::sendOrFail(producer, topic, kAnyPartition, key, payload, headers, seq));
      producer.poll(std::chrono::milliseconds(0));
    }
    ASSERT_TRUE(producer.flush(std::chrono::seconds(60)));
  }
  ASSERT_EQ(deliveries.failed, 0u) << deliveries.lastError;
  ASSERT_EQ(deliveries.partitions.size(), kMessages);
  std::map<std::string, int32_t> partitionOfKey;
  for (const auto& [seq, partition] : deliveries.partitions) {
    const auto [it, inserted] = partitionOfKey.emplace(keyOf(seq), partition);
    ASSERT_EQ(it->second, partition) << "key " << keyOf(seq) << " produced to two partitions";
  }
  std::set<int32_t> usedPartitions;
  for (const auto& [key, partition] : partitionOfKey) usedPartitions.insert(partition);
  EXPECT_EQ(usedPartitions.size(), static_cast<size_t>(kPartitions)) << "1000 keys hash to all 12";

  // Consume: all messages, each once, each in the partition its key was produced to.
  Consumer consumer(test::clientConfig("slice-consumer"),
                    ConsumerOptions{.groupId = group, .protocol = protocol});
  consumer.subscribe({topic});
  std::vector<bool> seen(kMessages, false);
  uint64_t consumed = 0;
  uint64_t duplicates = 0;
  bool described = false;
  std::optional<Message> last;
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  while (consumed < kMessages && Clock::now() < deadline) {
    auto message = consumer.poll(std::chrono::milliseconds(200));
    if (!message) continue;
    ASSERT_FALSE(message->isError()) << message->error().message();
    const auto envelope = latency::parseEnvelope(message->header(latency::kSeqHeader),
                                                 message->header(latency::kSendTimeHeader),
                                                 message->header(latency::kProducerHeader));
    ASSERT_TRUE(envelope.has_value()) << "message without a valid ebb envelope";
    ASSERT_LT(envelope->seq, kMessages);
    ASSERT_EQ(message->key(), keyOf(envelope->seq));
    ASSERT_EQ(message->partition(), partitionOfKey.at(keyOf(envelope->seq)));
    if (seen[envelope->seq]) {
      ++duplicates;
    } else {
      seen[envelope->seq] = true;
      ++consumed;
    }
    ASSERT_FALSE(consumer.markProcessed(*message));
    if (!described && consumed == kMessages / 2) {
      // Mid-stream the group is one member owning all 12 partitions, of the protocol asked for.
      const auto description = admin.describeGroup(group);
      EXPECT_EQ(description.type, protocol == GroupProtocol::kConsumer ? "Consumer" : "Classic");
      ASSERT_EQ(description.members.size(), 1u);
      EXPECT_EQ(description.members[0].assignment.size(), static_cast<size_t>(kPartitions));
      EXPECT_EQ(description.members[0].clientId, "slice-consumer");
      described = true;
    }
    last = std::move(message);
  }
  EXPECT_EQ(consumed, kMessages);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_TRUE(described);
  ASSERT_FALSE(consumer.commitSync());

  // What the group committed is exactly the end of every partition.
  std::vector<TopicPartition> partitions;
  for (int32_t p = 0; p < kPartitions; ++p) partitions.push_back({topic, p});
  const auto committed = admin.listGroupOffsets(group);
  const auto ends = admin.listOffsets(partitions, OffsetSpec::kLatest);
  EXPECT_EQ(committed, ends);
  EXPECT_EQ(sum(ends), static_cast<int64_t>(kMessages));
  ASSERT_FALSE(consumer.close());
  // Closed, the member owns no partition: marking is refused with a named error. LeakSanitizer
  // checks at exit that the error librdkafka handed over was freed.
  ASSERT_TRUE(last.has_value());
  const auto refused = consumer.markProcessed(*last);
  EXPECT_TRUE(refused);
  EXPECT_NE(refused.message().find("not assigned"), std::string::npos) << refused.message();

  // A second group reads the same topic through pollBatch().
  ASSERT_NO_FATAL_FAILURE(readInBatches(topic, group + "-batched", protocol, kMessages));
}

INSTANTIATE_TEST_SUITE_P(BothGroupProtocols, VerticalSliceTest,
                         ::testing::Values(GroupProtocol::kConsumer, GroupProtocol::kClassic),
                         [](const auto& instance) {
                           return std::string(toString(instance.param));
                         });

}  // namespace
}  // namespace ebb::kafka
