// The real Kafka cluster that integration tests run against: started once per test binary by
// tools/kafka/kafka.sh (and stopped at the end, also when tests fail), or EBB_BOOTSTRAP_SERVERS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "ebb/kafka/client_config.h"

namespace ebb::test {

const std::string& bootstrapServers();
// A client config for the test cluster; client.id names the test.
kafka::ClientConfig clientConfig(const std::string& clientId = "ebb-test");
// The group has committed every partition's end of the topic: all that was produced is processed.
// False too while the cluster cannot answer.
bool groupCaughtUp(const std::string& group, const std::string& topic, int32_t partitions);
// A topic or group name no other test (or earlier run) uses.
std::string uniqueName(const std::string& prefix);

// The cluster this binary started (EBB_TEST_NODES nodes; empty paths with EBB_BOOTSTRAP_SERVERS):
// its run directory, to signal a node's JVM (node-N/pid), and tools/kafka/kafka.sh.
const std::filesystem::path& clusterRunDir();
const std::string& kafkaScript();
int clusterNodes();

}  // namespace ebb::test
