// The admin calls ebb relies on, against the real broker.
#include "ebb/kafka/admin_client.h"

#include <gtest/gtest.h>

#include "ebb/kafka/error.h"
#include "ebb/kafka/producer.h"
#include "kafka_environment.h"
#include "test_producer.h"

namespace ebb::kafka {
namespace {

using std::chrono::seconds;

TEST(AdminClientTest, ClusterMetadataNamesBrokersAndController) {
  AdminClient admin(test::clientConfig());
  const auto metadata = admin.metadata();
  EXPECT_FALSE(metadata.clusterId.empty());
  ASSERT_FALSE(metadata.brokers.empty());
  EXPECT_EQ(metadata.brokers.front().host, "127.0.0.1");
  EXPECT_GE(metadata.controllerId, 0);
}

TEST(AdminClientTest, CreatesTopicWithPartitionsAndConfig) {
  AdminClient admin(test::clientConfig());
  const auto name = test::uniqueName("admin-create");
  admin.createTopic(
      {.name = name, .partitions = 12, .configs = {{"message.timestamp.type", "LogAppendTime"}}});
  const auto metadata = admin.metadata(name);
  ASSERT_EQ(metadata.topics.size(), 1u);
  ASSERT_EQ(metadata.topics[0].partitions.size(), 12u);
  for (const auto& partition : metadata.topics[0].partitions) {
    EXPECT_GE(partition.leader, 0);
    EXPECT_FALSE(partition.inSyncReplicas.empty());
  }
}

TEST(AdminClientTest, CreatingAnExistingTopicSaysSo) {
  AdminClient admin(test::clientConfig());
  const auto name = test::uniqueName("admin-twice");
  admin.createTopic({.name = name, .partitions = 1});
  try {
    admin.createTopic({.name = name, .partitions = 1});
    FAIL() << "second create succeeded";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos) << error.what();
  }
}

TEST(AdminClientTest, UnknownTopicIsAClearError) {
  AdminClient admin(test::clientConfig());
  try {
    admin.metadata("no-such-topic-" + test::uniqueName("x"));
    FAIL() << "metadata for an unknown topic succeeded";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("unknown topic"), std::string::npos) << error.what();
  }
}

// topic() gives a just-created topic time to reach the broker asked, but not an unknown one
// forever: the same clear error after the propagation window, and a topic that exists at once.
TEST(AdminClientTest, TopicWaitsOutPropagationThenSaysUnknown) {
  AdminClient admin(test::clientConfig());
  const auto start = std::chrono::steady_clock::now();
  try {
    admin.topic("no-such-topic-" + test::uniqueName("x"));
    FAIL() << "topic() found an unknown topic";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("unknown topic"), std::string::npos) << error.what();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, AdminClient::kTopicPropagation);
  EXPECT_LT(waited, AdminClient::kTopicPropagation + std::chrono::seconds(5));
  const auto name = test::uniqueName("admin-topic");
  admin.createTopic({.name = name, .partitions = 2});
  EXPECT_EQ(admin.topic(name).partitions.size(), 2u);
}

TEST(AdminClientTest, InvalidPartitionCountIsRejectedByTheBroker) {
  AdminClient admin(test::clientConfig());
  EXPECT_THROW(admin.createTopic({.name = test::uniqueName("admin-bad"), .partitions = 0}),
               KafkaError);
}

TEST(AdminClientTest, ListOffsetsReportsEarliestAndLatest) {
  AdminClient admin(test::clientConfig());
  const auto name = test::uniqueName("admin-offsets");
  admin.createTopic({.name = name, .partitions = 3});
  test::DeliveryLog deliveries;
  {
    Producer producer(test::clientConfig(), &deliveries);
    for (uint64_t i = 0; i < 10; ++i) {
      test::sendOrFail(producer, name, 1, std::nullopt, "payload", {}, i);
    }
    ASSERT_TRUE(producer.flush(std::chrono::seconds(30)));
  }
  ASSERT_EQ(deliveries.failed, 0u) << deliveries.lastError;
  const std::vector<TopicPartition> partitions{{name, 0}, {name, 1}, {name, 2}};
  const auto latest = admin.listOffsets(partitions, OffsetSpec::kLatest);
  const auto earliest = admin.listOffsets(partitions, OffsetSpec::kEarliest);
  EXPECT_EQ(latest.at({name, 0}), 0);
  EXPECT_EQ(latest.at({name, 1}), 10);
  EXPECT_EQ(latest.at({name, 2}), 0);
  EXPECT_EQ(earliest.at({name, 1}), 0);
}

TEST(AdminClientTest, UnknownGroupHasNoCommittedOffsets) {
  AdminClient admin(test::clientConfig());
  EXPECT_TRUE(admin.listGroupOffsets(test::uniqueName("no-group")).empty());
}

}  // namespace
}  // namespace ebb::kafka
