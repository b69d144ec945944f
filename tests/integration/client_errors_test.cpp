// Bad configuration and unreachable clusters end in clear errors within a bounded time.
#include <gtest/gtest.h>

#include <chrono>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/consumer.h"
#include "ebb/kafka/error.h"
#include "ebb/kafka/producer.h"

namespace ebb::kafka {
namespace {

using Clock = std::chrono::steady_clock;

// Port 1 on loopback: nothing listens there, connections are refused at once.
ClientConfig unreachable() {
  ClientConfig config;
  config.bootstrapServers = "127.0.0.1:1";
  return config;
}

TEST(ClientErrorsTest, UnreachableClusterFailsWithinTheTimeout) {
  AdminClient admin(unreachable(), std::chrono::seconds(3));
  const auto start = Clock::now();
  try {
    admin.metadata();
    FAIL() << "metadata from an unreachable cluster";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("cluster metadata"), std::string::npos)
        << error.what();
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(15));
}

TEST(ClientErrorsTest, UnknownPropertyIsNamed) {
  auto config = unreachable();
  config.set("no.such.property=1");
  try {
    Producer producer(config, nullptr);
    FAIL() << "accepted an unknown property";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("no.such.property"), std::string::npos)
        << error.what();
  }
}

TEST(ClientErrorsTest, InvalidValueIsNamed) {
  auto config = unreachable();
  config.set("linger.ms=soon");
  try {
    Producer producer(config, nullptr);
    FAIL() << "accepted an invalid value";
  } catch (const KafkaError& error) {
    EXPECT_NE(std::string(error.what()).find("linger.ms"), std::string::npos) << error.what();
  }
}

TEST(ClientErrorsTest, ConsumerNeedsAGroupAndAKnownAssignor) {
  EXPECT_THROW(Consumer(unreachable(), ConsumerOptions{}), std::invalid_argument);
  EXPECT_THROW(Consumer(unreachable(), ConsumerOptions{.groupId = "g",
                                                       .protocol = GroupProtocol::kClassic,
                                                       .assignor = "fastest"}),
               KafkaError);
}

}  // namespace
}  // namespace ebb::kafka
