// The robustness tier: real faults against a real 3-node KRaft cluster (topic RF 3,
// min.insync.replicas 2) that this binary starts with tools/kafka/kafka.sh. Brokers are SIGKILLed,
// restarted, SIGSTOPped past their session and resumed under load; consumers are SIGKILLed a
// hundred times; `ebb scale` and the lag exporter live through a whole-cluster outage. Each test
// ends with `ebb verify`: nothing the producer had acknowledged may be missing.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../integration/child_process.h"
#include "../integration/kafka_environment.h"
#include "ebb/kafka/admin_client.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kEbb = EBB_BINARY;
constexpr int32_t kPartitions = 12;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

pid_t nodePid(int node) {
  std::ifstream in(clusterRunDir() / ("node-" + std::to_string(node)) / "pid");
  pid_t pid = -1;
  in >> pid;
  return pid;
}

// An exporter's answer to GET `path`: status and body, or status -1 while it does not answer.
std::pair<int, std::string> httpGet(int port, const std::string& path) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(2, 0);
  const auto response = http.Get(path);
  return response ? std::pair{response->status, response->body} : std::pair{-1, std::string()};
}
std::string scrape(int port) { return httpGet(port, "/metrics").second; }
int readyStatus(int port) { return httpGet(port, "/readyz").first; }

class BrokerFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(clusterNodes(), 3);
    ASSERT_FALSE(clusterRunDir().empty()) << "the robustness tier starts its own cluster: unset "
                                             "EBB_BOOTSTRAP_SERVERS";
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-robustness");
    std::filesystem::create_directories(dir_);
    topic_ = uniqueName("faults");
    group_ = topic_ + "-group";
    kafka::AdminClient(clientConfig())
        .createTopic({.name = topic_,
                      .partitions = kPartitions,
                      .replicationFactor = 3,
                      .configs = {{"min.insync.replicas", "2"}}});
    // Every broker has the topic and every replica is in sync before the first client starts
    // (the controller answers CreateTopics before the other brokers' caches have it).
    ASSERT_TRUE(waitUntil([&] { return fullyReplicated(); }, 60s)) << "topic never fully in sync";
  }
  void TearDown() override {
    // Whatever a failed test left stopped or killed comes back for the next one.
    for (int node = 1; node <= 3; ++node) {
      if (nodePid(node) > 0) ::kill(nodePid(node), SIGCONT);
      if (!nodeAlive(node)) startNode(node);
    }
    waitUntil([&] { return fullyReplicated(); }, 90s);
    consumers_.clear();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static bool nodeAlive(int node) {
    const pid_t pid = nodePid(node);
    return pid > 0 && ::kill(pid, 0) == 0 &&
           std::filesystem::exists("/proc/" + std::to_string(pid));
  }

  static void startNode(int node) {
    const int status = runCommand({"/bin/bash", kafkaScript(), "start-node", std::to_string(node),
                                   "--dir", clusterRunDir().string()},
                                  60s);
    ASSERT_EQ(status, 0) << "kafka.sh start-node " << node;
  }

  // Every partition of the topic has a leader and all three replicas in sync.
  bool fullyReplicated() {
    try {
      const auto topic = kafka::AdminClient(clientConfig(), 5s).metadata(topic_).topics.at(0);
      return std::ranges::all_of(topic.partitions, [](const kafka::PartitionInfo& p) {
        return p.leader >= 0 && p.inSyncReplicas.size() == 3;
      });
    } catch (const std::exception&) {
      return false;
    }
  }

  // The node that leads most of the topic's partitions.
  int busiestLeader() {
    // Held in a variable: a range-for over a temporary's member outlives the temporary.
    const auto metadata = kafka::AdminClient(clientConfig(), 10s).metadata(topic_);
    std::map<int32_t, int> led;
    for (const auto& p : metadata.topics.at(0).partitions) ++led[p.leader];
    return std::ranges::max_element(led, {}, [](const auto& entry) { return entry.second; })->first;
  }

  // The sum of the topic's log-end offsets (-1 while the cluster cannot say).
  int64_t logEnd() {
    try {
      kafka::AdminClient admin(clientConfig(), 5s);
      std::vector<kafka::TopicPartition> partitions;
      for (int32_t p = 0; p < kPartitions; ++p) partitions.push_back({topic_, p});
      int64_t total = 0;
      for (const auto& [tp, offset] : admin.listOffsets(partitions, kafka::OffsetSpec::kLatest)) {
        total += offset;
      }
      return total;
    } catch (const std::exception&) {
      return -1;
    }
  }

  size_t audited() {
    size_t total = 0;
    for (size_t i = 0; i < consumers_.size(); ++i) total += countLines(auditPath(i));
    return total;
  }
  std::string auditPath(size_t index) const {
    return path("consumer-" + std::to_string(index) + ".audit");
  }

  void startConsumer(const std::vector<std::string>& extra = {}) {
    const size_t index = consumers_.size();
    std::vector<std::string> argv{
        kEbb, "--log-level", "warn", "consume", "-b",      bootstrapServers(),
        "-t", topic_,        "-g",   group_,    "--audit", auditPath(index)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    consumers_.emplace_back(argv, path("consumer-" + std::to_string(index) + ".out"),
                            path("consumer-" + std::to_string(index) + ".err"));
  }

  // An idempotent producer with acks=all: a retried batch is never written twice.
  ChildProcess startProducer(double rate, double seconds) {
    return ChildProcess({kEbb,
                         "--log-level",
                         "warn",
                         "produce",
                         "-b",
                         bootstrapServers(),
                         "-t",
                         topic_,
                         "--producer-id",
                         "p1",
                         "--keys",
                         "uniform:1000",
                         "--rate",
                         std::to_string(rate),
                         "--duration",
                         std::to_string(seconds),
                         "-X",
                         "enable.idempotence=true",
                         "-X",
                         "acks=all",
                         "--http",
                         "127.0.0.1:" + std::to_string(producerPort_),
                         "-o",
                         "json"},
                        path("producer.json"), path("producer.err"));
  }

  // What the producer has had acknowledged so far, from its /metrics (-1 while it does not say).
  double producerAcks() const;
  const int producerPort_ = 22000 + static_cast<int>(::getpid() % 10000);

  // Waits for the producer and returns how many messages it had acknowledged (all of them).
  uint64_t producerAcknowledged(ChildProcess& producer, std::chrono::seconds timeout) {
    const auto status = producer.wait(timeout);
    EXPECT_EQ(status, std::optional<int>(0)) << readFile(path("producer.err"));
    const auto text = readFile(path("producer.json"));
    const auto summary = nlohmann::json::parse(text.substr(text.find('{')));
    EXPECT_EQ(summary["failed"].get<uint64_t>(), 0u) << summary.dump();
    EXPECT_EQ(summary["acknowledged"].get<uint64_t>(), summary["sent"].get<uint64_t>());
    return summary["acknowledged"].get<uint64_t>();
  }

  void waitForCaughtUpAndStop(std::chrono::seconds timeout) {
    EXPECT_TRUE(waitUntil([&] { return groupCaughtUp(group_, topic_, kPartitions); }, timeout))
        << "the group did not catch up";
    for (auto& consumer : consumers_) consumer.signal(SIGTERM);
    for (auto& consumer : consumers_) consumer.wait(60s);
  }

  // ebb verify over the given audit files; returns its JSON report.
  nlohmann::json verify(const std::vector<std::string>& audits, uint64_t expected) {
    std::vector<std::string> argv{kEbb,   "verify",   "-o",
                                  "json", "--expect", "p1=" + std::to_string(expected)};
    for (const auto& audit : audits) {
      if (!std::filesystem::exists(audit)) continue;
      argv.push_back("--audit");
      argv.push_back(audit);
    }
    std::string output;
    const int status = runCommand(argv, 300s, &output);
    EXPECT_EQ(status, 0) << "ebb verify found loss:\n" << output.substr(0, 2000);
    const auto start = output.find('{');
    return start == std::string::npos ? nlohmann::json::object()
                                      : nlohmann::json::parse(output.substr(start));
  }

  // The whole topic read once more by a new group: the log itself holds no duplicates.
  void expectLogWithoutDuplicates(uint64_t expected) {
    std::string output;
    ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                          topic_, "-g", group_ + "-reader", "-n", std::to_string(expected),
                          "--audit", path("reader.audit"), "-o", "json"},
                         300s, &output),
              0)
        << output;
    const auto report = verify({path("reader.audit")}, expected);
    EXPECT_EQ(report.value("lost", 1u), 0u) << report.dump();
    EXPECT_EQ(report.value("duplicates", 1u), 0u)
        << "the idempotent producer wrote a message twice: " << report.dump();
  }

  std::vector<std::string> consumerAudits() const {
    std::vector<std::string> audits;
    for (size_t i = 0; i < consumers_.size(); ++i) audits.push_back(auditPath(i));
    return audits;
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
  std::vector<ChildProcess> consumers_;
};

double BrokerFaultsTest::producerAcks() const {
  const auto [status, body] = httpGet(producerPort_, "/metrics");
  const std::string series = "ebb_producer_messages_acknowledged_total{topic=\"" + topic_ + "\"} ";
  const auto at = body.find(series);
  return status != 200 || at == std::string::npos ? -1 : std::stod(body.substr(at + series.size()));
}

TEST_F(BrokerFaultsTest, LeaderKillsAndAPausedBrokerLoseNothing) {
  startConsumer();
  startConsumer();
  // Runs until the faults are over, then is stopped (SIGTERM: it flushes, then reports).
  auto producer = startProducer(1000, 900);
  ASSERT_TRUE(waitUntil([&] { return audited() > 2000; }, 60s)) << readFile(path("producer.err"));

  std::vector<double> produceResume, consumeResume;
  for (int round = 0; round < 3; ++round) {
    const int victim = busiestLeader();
    const int64_t endAtKill = logEnd();
    const size_t auditedAtKill = audited();
    const auto killedAt = Clock::now();
    ASSERT_EQ(::kill(nodePid(victim), SIGKILL), 0);
    // Resumed: 500 more messages (half a second of load) appended, and processed.
    ASSERT_TRUE(waitUntil([&] { return logEnd() > endAtKill + 500; }, 60s))
        << "producing did not resume after node " << victim << " was killed";
    produceResume.push_back(secondsSince(killedAt));
    ASSERT_TRUE(waitUntil([&] { return audited() > auditedAtKill + 500; }, 60s))
        << "consuming did not resume after node " << victim << " was killed";
    consumeResume.push_back(secondsSince(killedAt));
    startNode(victim);
    ASSERT_TRUE(waitUntil([&] { return fullyReplicated(); }, 90s)) << "node " << victim;
  }
  // A broker frozen for longer than its session (broker.session.timeout.ms, 9 s), then resumed.
  // With acks=all every partition waits for it while it stays in the ISR, so producing resumes
  // once it is fenced and dropped from the ISR, or when it comes back: measured from the
  // producer's own acknowledgements.
  const int frozen = busiestLeader();
  const double acksAtStop = producerAcks();
  const auto stoppedAt = Clock::now();
  ASSERT_EQ(::kill(nodePid(frozen), SIGSTOP), 0);
  std::optional<double> resumedAfter;
  while (secondsSince(stoppedAt) < 15) {
    if (!resumedAfter && producerAcks() > acksAtStop + 500) resumedAfter = secondsSince(stoppedAt);
    std::this_thread::sleep_for(100ms);
  }
  ::kill(nodePid(frozen), SIGCONT);
  if (!resumedAfter) {
    ASSERT_TRUE(waitUntil([&] { return producerAcks() > acksAtStop + 500; }, 60s))
        << "producing did not resume after node " << frozen << " was stopped and resumed";
    resumedAfter = secondsSince(stoppedAt);
  }
  const double resumedWhileStopped = *resumedAfter;
  ASSERT_TRUE(waitUntil([&] { return fullyReplicated(); }, 90s));

  std::this_thread::sleep_for(3s);
  producer.signal(SIGTERM);
  const uint64_t acknowledged = producerAcknowledged(producer, 120s);
  waitForCaughtUpAndStop(120s);
  const auto report = verify(consumerAudits(), acknowledged);
  EXPECT_EQ(report.value("lost", 1u), 0u) << report.dump();
  expectLogWithoutDuplicates(acknowledged);

  const auto list = [](const std::vector<double>& values) {
    std::string text;
    for (const double v : values) text += (text.empty() ? "" : ", ") + std::to_string(v);
    return text;
  };
  std::printf(
      "[robustness] 3 leader kills + 1 SIGSTOP of 15 s survived; %llu messages acknowledged, "
      "0 lost; consumer duplicates %llu\n[robustness] produce resumed after kill (s): %s\n"
      "[robustness] consume resumed after kill (s): %s\n[robustness] produce resumed %.2f s "
      "after a broker was SIGSTOPped (SIGCONT at 15 s)\n",
      static_cast<unsigned long long>(acknowledged),
      static_cast<unsigned long long>(report.value("duplicates", 0u)), list(produceResume).c_str(),
      list(consumeResume).c_str(), resumedWhileStopped);
  RecordProperty("produce_resume_s", list(produceResume));
  RecordProperty("consume_resume_s", list(consumeResume));
}

TEST_F(BrokerFaultsTest, AHundredConsumerKillsLoseNothing) {
  constexpr int kKills = 100;
  constexpr int kMembers = 3;
  for (int i = 0; i < kMembers; ++i) startConsumer();
  auto producer = startProducer(500, 200);
  ASSERT_TRUE(waitUntil([&] { return audited() > 500; }, 60s)) << readFile(path("producer.err"));
  std::mt19937 random(42);
  std::vector<size_t> live;
  for (size_t i = 0; i < consumers_.size(); ++i) live.push_back(i);
  int kills = 0;
  for (; kills < kKills && producer.running(); ++kills) {
    // Each member runs long enough to join and process (a second and a half), then one dies.
    std::this_thread::sleep_for(1500ms);
    const size_t pick = std::uniform_int_distribution<size_t>(0, live.size() - 1)(random);
    consumers_[live[pick]].signal(SIGKILL);
    consumers_[live[pick]].wait(10s);
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
    startConsumer();
    live.push_back(consumers_.size() - 1);
  }
  EXPECT_EQ(kills, kKills) << "the producer ended before the kills did";
  const uint64_t acknowledged = producerAcknowledged(producer, 300s);
  waitForCaughtUpAndStop(120s);
  const auto report = verify(consumerAudits(), acknowledged);
  EXPECT_EQ(report.value("lost", 1u), 0u) << report.dump();
  std::printf(
      "[robustness] %d consumer SIGKILLs with replacements: %llu messages, 0 lost, %llu "
      "redelivered\n",
      kills, static_cast<unsigned long long>(acknowledged),
      static_cast<unsigned long long>(report.value("duplicates", 0u)));
}

TEST_F(BrokerFaultsTest, ScaleAndTheLagExporterLiveThroughAnOutage) {
  const int lagPort = 21000 + static_cast<int>(::getpid() % 10000);
  ChildProcess exporter(
      {kEbb, "lag", "-b", bootstrapServers(), "-g", group_, "-t", topic_, "--http",
       "127.0.0.1:" + std::to_string(lagPort), "--interval", "1", "--timeout", "10"},
      path("lag.out"), path("lag.err"));
  ChildProcess scale(
      {kEbb, "scale", "-b", bootstrapServers(), "-t", topic_, "-g", group_, "--policy", "static",
       "--set", "replicas=1", "--grace-period", "5", "--log-dir", path("replicas")},
      path("scale.out"), path("scale.err"));
  const std::string upSeries = "ebb_group_lag_up{group=\"" + group_ + "\"}";
  ASSERT_TRUE(
      waitUntil([&] { return scrape(lagPort).find(upSeries + " 1") != std::string::npos; }, 60s))
      << readFile(path("lag.err"));
  ASSERT_TRUE(waitUntil([&] { return readyStatus(lagPort) == 200; }, 30s));

  // The whole cluster stops answering (its JVMs frozen: connections stay open, requests hang).
  for (int node = 1; node <= 3; ++node) ASSERT_EQ(::kill(nodePid(node), SIGSTOP), 0);
  const auto outageAt = Clock::now();
  EXPECT_TRUE(
      waitUntil([&] { return scrape(lagPort).find(upSeries + " 0") != std::string::npos; }, 60s))
      << "the exporter did not mark its readings failed";
  const auto during = scrape(lagPort);
  EXPECT_EQ(during.find("ebb_group_partition_lag_messages{"), std::string::npos)
      << "stale lag served as current during the outage:\n"
      << during;
  EXPECT_NE(during.find("ebb_group_lag_last_success_timestamp_seconds"), std::string::npos);
  EXPECT_EQ(readyStatus(lagPort), 503);
  const double markedAfter = secondsSince(outageAt);

  // Told to stop during the outage, ebb scale ends within its grace period (5 s) and a margin.
  const auto stopAt = Clock::now();
  scale.signal(SIGTERM);
  const auto scaleStatus = scale.wait(20s);
  const double scaleStopped = secondsSince(stopAt);
  EXPECT_TRUE(scaleStatus.has_value()) << "ebb scale did not stop during the outage";
  EXPECT_LT(scaleStopped, 12.0) << readFile(path("scale.err"));

  for (int node = 1; node <= 3; ++node) ::kill(nodePid(node), SIGCONT);
  const auto backAt = Clock::now();
  EXPECT_TRUE(
      waitUntil([&] { return scrape(lagPort).find(upSeries + " 1") != std::string::npos; }, 90s))
      << "the exporter did not recover: " << readFile(path("lag.err"));
  const double recoveredAfter = secondsSince(backAt);
  EXPECT_NE(scrape(lagPort).find("ebb_group_partition_lag_messages{"), std::string::npos);
  exporter.signal(SIGTERM);
  EXPECT_EQ(exporter.wait(15s), std::optional<int>(0));
  std::printf(
      "[robustness] outage: exporter marked not-ready after %.1f s, ebb scale stopped in "
      "%.1f s during it, exporter current again %.1f s after the cluster came back\n",
      markedAfter, scaleStopped, recoveredAfter);
}

}  // namespace
}  // namespace ebb::test
