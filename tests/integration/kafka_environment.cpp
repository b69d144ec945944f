#include "kafka_environment.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/error.h"
#include "ebb/lag/partition_lag.h"

namespace ebb::test {
namespace {

#ifndef EBB_TEST_NODES
#define EBB_TEST_NODES 1
#endif

std::string g_bootstrap;
std::filesystem::path g_runDir;
std::string g_script;

std::string runScript(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  if (status != 0)
    throw std::runtime_error("failed (status " + std::to_string(status) + "): " + command);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output;
}

class KafkaEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* external = std::getenv("EBB_BOOTSTRAP_SERVERS"); external && *external) {
      g_bootstrap = external;
      // Fail fast with a clear message instead of every test timing out on its own.
      try {
        kafka::AdminClient admin(clientConfig("ebb-test-probe"), std::chrono::seconds(10));
        admin.metadata();
      } catch (const kafka::KafkaError& error) {
        std::fprintf(stderr,
                     "EBB_BOOTSTRAP_SERVERS=%s does not answer: %s\n"
                     "Unset it to let the tests start their own broker.\n",
                     external, error.what());
        std::exit(2);
      }
      return;
    }
    runDir_ = std::filesystem::temp_directory_path() / ("ebb-it-" + std::to_string(::getpid()));
    script_ = std::string(EBB_SOURCE_DIR) + "/tools/kafka/kafka.sh";
    // --owner-pid: if this process dies without TearDown (crash, SIGKILL), the broker follows it.
    try {
      g_bootstrap =
          runScript("bash '" + script_ + "' start --nodes " + std::to_string(EBB_TEST_NODES) +
                    " --dir '" + runDir_.string() + "' --owner-pid " + std::to_string(::getpid()));
      g_runDir = runDir_;
      g_script = script_;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "cannot start the test broker: %s\n", error.what());
      std::exit(2);
    }
  }

  void TearDown() override {
    if (runDir_.empty()) return;
    std::system(("bash '" + script_ + "' stop --dir '" + runDir_.string() + "'").c_str());
    std::filesystem::remove_all(runDir_);
  }

 private:
  std::filesystem::path runDir_;
  std::string script_;
};

}  // namespace

const std::string& bootstrapServers() { return g_bootstrap; }
const std::filesystem::path& clusterRunDir() { return g_runDir; }
const std::string& kafkaScript() { return g_script; }
int clusterNodes() { return EBB_TEST_NODES; }

kafka::ClientConfig clientConfig(const std::string& clientId) {
  kafka::ClientConfig config;
  config.bootstrapServers = g_bootstrap;
  config.clientId = clientId;
  return config;
}

bool groupCaughtUp(const std::string& group, const std::string& topic, int32_t partitions) {
  try {
    kafka::AdminClient admin(clientConfig());
    const auto offsets = lag::readPartitionOffsets(admin, group, topic, partitions);
    return std::all_of(offsets.begin(), offsets.end(),
                       [](const lag::PartitionOffsets& partition) { return partition.lag() == 0; });
  } catch (const std::exception&) {
    return false;
  }
}

std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000);
}

}  // namespace ebb::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  spdlog::set_level(spdlog::level::warn);
  ::testing::AddGlobalTestEnvironment(new ebb::test::KafkaEnvironment);
  return RUN_ALL_TESTS();
}
