// ebb produce / ebb consume / ebb verify as separate processes against the real broker: zero loss
// with several consumers, consumers joining, leaving and being SIGKILLed mid-stream, malformed
// messages, and clear errors for unknown topics and unreachable clusters.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/consumer.h"
#include "ebb/kafka/producer.h"
#include "kafka_environment.h"
#include "test_producer.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kEbb = EBB_BINARY;
constexpr int32_t kPartitions = 12;

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-services");
    std::filesystem::create_directories(dir_);
    topic_ = uniqueName("services");
    group_ = topic_ + "-group";
    kafka::AdminClient(clientConfig()).createTopic({.name = topic_, .partitions = kPartitions});
  }
  void TearDown() override {
    consumers_.clear();  // kills whatever is still running
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Starts `ebb consume` writing its own audit file; returns its index.
  size_t startConsumer(const std::string& protocol, const std::vector<std::string>& extra = {}) {
    const size_t index = consumers_.size();
    std::vector<std::string> argv{kEbb,
                                  "--log-level",
                                  "warn",
                                  "consume",
                                  "-b",
                                  bootstrapServers(),
                                  "-t",
                                  topic_,
                                  "-g",
                                  group_,
                                  "--group-protocol",
                                  protocol,
                                  "--audit",
                                  path("consumer-" + std::to_string(index) + ".audit")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    consumers_.emplace_back(argv, path("consumer-" + std::to_string(index) + ".out"),
                            path("consumer-" + std::to_string(index) + ".err"));
    return index;
  }

  ChildProcess startProducer(const std::string& producerId, const std::vector<std::string>& load) {
    std::vector<std::string> argv{
        kEbb, "--log-level", "warn",          "produce",  "-b",     bootstrapServers(),
        "-t", topic_,        "--producer-id", producerId, "--keys", "uniform:1000",
        "-o", "json"};
    argv.insert(argv.end(), load.begin(), load.end());
    return ChildProcess(argv, path(producerId + ".json"), path(producerId + ".err"));
  }

  size_t groupMembers() {
    try {
      return kafka::AdminClient(clientConfig()).describeGroup(group_).members.size();
    } catch (const std::exception&) {
      return 0;
    }
  }

  bool waitFor(const std::function<bool()>& condition, std::chrono::seconds timeout) {
    return waitUntil(condition, timeout);
  }

  size_t auditedLines() {
    size_t total = 0;
    for (size_t i = 0; i < consumers_.size(); ++i) {
      total += countLines(path("consumer-" + std::to_string(i) + ".audit"));
    }
    return total;
  }

  // Counting audit lines instead would let redelivered duplicates stand in for messages still
  // waiting on a partition (the audit is flushed before offsets are stored).
  bool groupCaughtUp() { return test::groupCaughtUp(group_, topic_, kPartitions); }

  // SIGTERM every consumer that still runs; each must drain and exit 0.
  void stopConsumers() {
    for (auto& consumer : consumers_) consumer.signal(SIGTERM);
    for (size_t i = 0; i < consumers_.size(); ++i) {
      if (std::find(exitedEarly_.begin(), exitedEarly_.end(), i) != exitedEarly_.end()) continue;
      const auto status = consumers_[i].wait(30s);
      ASSERT_TRUE(status.has_value()) << "consumer " << i << " did not stop within 30 s";
      if (*status != 128 + SIGKILL) {
        EXPECT_EQ(*status, 0) << "consumer " << i << ": "
                              << readFile(path("consumer-" + std::to_string(i) + ".err"));
      }
    }
  }

  // Runs `ebb verify` over every audit file; returns its JSON report.
  nlohmann::json verify(const std::vector<std::string>& expectations) {
    std::vector<std::string> argv{kEbb, "verify", "-o", "json"};
    for (size_t i = 0; i < consumers_.size(); ++i) {
      argv.push_back("--audit");
      argv.push_back(path("consumer-" + std::to_string(i) + ".audit"));
    }
    for (const auto& expectation : expectations) {
      argv.push_back("--expect");
      argv.push_back(expectation);
    }
    std::string output;
    const int status = runCommand(argv, 120s, &output);
    EXPECT_EQ(status, 0) << "ebb verify found loss or reordering:\n" << output;
    const auto start = output.find('{');
    return start == std::string::npos ? nlohmann::json()
                                      : nlohmann::json::parse(output.substr(start));
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
  std::vector<ChildProcess> consumers_;
  std::vector<size_t> exitedEarly_;  // consumers whose exit the test has already checked
};

class ZeroLossTest : public ServicesTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ZeroLossTest, MillionMessagesOverThreeConsumers) {
  const uint64_t kMessages = 1'000'000;
  for (int i = 0; i < 3; ++i) startConsumer(GetParam());
  ASSERT_TRUE(waitFor([&] { return groupMembers() == 3; }, 60s)) << "3 consumers did not join";
  auto producer = startProducer("p1", {"--rate", "0", "-n", std::to_string(kMessages)});
  ASSERT_EQ(producer.wait(180s), std::optional<int>(0)) << readFile(path("p1.err"));
  const auto summary = nlohmann::json::parse(readFile(path("p1.json")));
  EXPECT_EQ(summary["acknowledged"].get<uint64_t>(), kMessages);
  ASSERT_TRUE(waitFor([&] { return groupCaughtUp(); }, 180s))
      << "only " << auditedLines() << " of " << kMessages << " processed";
  stopConsumers();
  const auto report = verify({"p1=" + std::to_string(kMessages)});
  // Every consumer got a share: the group balanced the 12 partitions over all three.
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(countLines(path("consumer-" + std::to_string(i) + ".audit")), kMessages / 10)
        << "consumer " << i;
  }
}

TEST_P(ZeroLossTest, ConsumersJoinAndLeaveMidStream) {
  startConsumer(GetParam());
  ASSERT_TRUE(waitFor([&] { return groupMembers() == 1; }, 60s));
  auto producer = startProducer("p1", {"--rate", "20000", "--duration", "8"});
  std::this_thread::sleep_for(2s);
  startConsumer(GetParam());
  startConsumer(GetParam());
  std::this_thread::sleep_for(3s);
  consumers_[0].signal(SIGTERM);  // graceful scale-in while the load goes on
  EXPECT_EQ(consumers_[0].wait(30s), std::optional<int>(0));
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  const auto sent = nlohmann::json::parse(readFile(path("p1.json")))["sent"].get<uint64_t>();
  EXPECT_GT(sent, 100'000u);
  ASSERT_TRUE(waitFor([&] { return groupCaughtUp(); }, 120s))
      << "only " << auditedLines() << " of " << sent << " processed";
  stopConsumers();
  verify({"p1=" + std::to_string(sent)});
  EXPECT_GT(countLines(path("consumer-1.audit")) + countLines(path("consumer-2.audit")), 0u);
}

TEST_P(ZeroLossTest, SigkilledConsumerLosesNothing) {
  startConsumer(GetParam(), {"--instance-id", "victim"});
  startConsumer(GetParam());
  ASSERT_TRUE(waitFor([&] { return groupMembers() == 2; }, 60s));
  auto producer = startProducer("p1", {"--rate", "20000", "--duration", "6"});
  std::this_thread::sleep_for(3s);
  consumers_[0].signal(SIGKILL);
  EXPECT_EQ(consumers_[0].wait(10s), std::optional<int>(128 + SIGKILL));
  const size_t replacement = startConsumer(GetParam(), {"--instance-id", "victim"});
  if (GetParam() == "consumer") {
    // KIP-848 keeps a member that stopped without leaving, with its id and partitions, until its
    // session times out: a replacement with the same id is refused and says why, as a restarted
    // pod would be. Then the group hands the partitions on, and a restart joins.
    const auto refused = consumers_[replacement].wait(30s);
    ASSERT_TRUE(refused.has_value()) << "a second member with --instance-id victim was let in";
    EXPECT_EQ(*refused, 1);
    const auto reason = readFile(path("consumer-" + std::to_string(replacement) + ".err"));
    EXPECT_NE(reason.find("still holds --instance-id 'victim'"), std::string::npos) << reason;
    exitedEarly_.push_back(replacement);
    ASSERT_TRUE(waitFor([&] { return groupMembers() == 1; }, 60s)) << "the session never ended";
    startConsumer(GetParam(), {"--instance-id", "victim"});
  }
  // Classic: static membership lets the replacement take the killed member's partitions at once.
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  const auto sent = nlohmann::json::parse(readFile(path("p1.json")))["sent"].get<uint64_t>();
  ASSERT_TRUE(waitFor([&] { return groupCaughtUp(); }, 120s))
      << "only " << auditedLines() << " of " << sent << " processed";
  stopConsumers();
  const auto report = verify({"p1=" + std::to_string(sent)});
  ::testing::Test::RecordProperty("duplicates", report.dump());
}

INSTANTIATE_TEST_SUITE_P(BothGroupProtocols, ZeroLossTest, ::testing::Values("consumer", "classic"),
                         [](const auto& instance) { return instance.param; });

// Classic cooperative-sticky with static membership: the static member is killed while it revokes
// the half of its partitions that the first round of a cooperative rebalance took from it, before
// it rejoined for the second round that hands them on. Its replacement gets the killed member's
// stored assignment without a rebalance (KIP-345), so the revoked half had no owner at all; the
// replacement must notice and have the group rebalance. Slow work with two workers makes the
// revocation (which drains the queued messages) last long enough to kill the member inside it.
TEST_F(ServicesTest, StaticMemberKilledMidRebalanceStrandsNoPartition) {
  auto producer = startProducer("p1", {"--rate", "0", "-n", "30000"});
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  const std::vector<std::string> slow{"--instance-id", "victim",    "--workers",      "2",
                                      "--work",        "sleep:5ms", "--grace-period", "60"};
  startConsumer("classic", slow);
  ASSERT_TRUE(waitFor([&] { return auditedLines() >= 200; }, 60s))
      << readFile(path("consumer-0.err"));
  startConsumer("classic");
  // First round done: the victim keeps 6 and revokes 6, the newcomer waits with none.
  const auto revoking = [&] {
    try {
      const auto group = kafka::AdminClient(clientConfig()).describeGroup(group_);
      if (group.state != "Stable" || group.members.size() != 2) return false;
      for (const auto& member : group.members) {
        const bool victim = member.memberId.starts_with("victim");
        if (member.assignment.size() != (victim ? kPartitions / 2 : 0u)) return false;
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  };
  ASSERT_TRUE(waitFor(revoking, 60s)) << "never saw the first round of the rebalance end";
  consumers_[0].signal(SIGKILL);
  EXPECT_EQ(consumers_[0].wait(10s), std::optional<int>(128 + SIGKILL));
  exitedEarly_.push_back(0);
  const auto replacedAt = Clock::now();
  const size_t replacement = startConsumer("classic", {"--instance-id", "victim"});
  ASSERT_TRUE(waitFor([&] { return groupCaughtUp(); }, 120s))
      << "only " << auditedLines() << " of 30000 processed; "
      << readFile(path("consumer-" + std::to_string(replacement) + ".err"));
  ::testing::Test::RecordProperty(
      "caught_up_after_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               Clock::now() - replacedAt)
                                               .count()));
  stopConsumers();
  verify({"p1=30000"});
}

TEST_F(ServicesTest, MalformedMessagesAreCountedAndProcessed) {
  {
    DeliveryLog deliveries;
    kafka::Producer raw(clientConfig(), &deliveries);
    const kafka::Header garbage[] = {{"ebb-seq", "x"}, {"ebb-ts", "soon"}, {"ebb-producer", "?"}};
    for (uint64_t i = 0; i < 50; ++i)
      sendOrFail(raw, topic_, kafka::kAnyPartition, "k", "plain", {}, i);
    for (uint64_t i = 0; i < 50; ++i) {
      sendOrFail(raw, topic_, kafka::kAnyPartition, "k", "garbage", garbage, i);
    }
    ASSERT_TRUE(raw.flush(30s));
    ASSERT_EQ(deliveries.failed, 0u);
  }
  auto producer = startProducer("p1", {"--rate", "0", "-n", "100"});
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  std::string output;
  const int status = runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(),
                                 "-t", topic_, "-g", group_, "-n", "200", "-o", "json"},
                                120s, &output);
  ASSERT_EQ(status, 0) << output;
  const auto summary = nlohmann::json::parse(output.substr(output.find('{')));
  EXPECT_EQ(summary["consumed"].get<uint64_t>(), 200u);
  EXPECT_EQ(summary["malformed"].get<uint64_t>(), 100u);
  EXPECT_EQ(summary["end_to_end_latency"]["count"].get<uint64_t>(), 100u);
}

// With --workers, a stop whose grace period runs out ends at the deadline (not after the whole
// queue), commits exactly what was processed, and a later member processes the rest.
TEST_F(ServicesTest, WorkersStopAtTheGraceDeadlineAndCommitOnlyWhatTheyProcessed) {
  auto producer = startProducer("p1", {"--rate", "0", "-n", "20000"});
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  // 2 workers at 5 ms a message: ~400 msg/s, so the 8,192 queued take ~20 s, far past the grace.
  startConsumer("consumer", {"--workers", "2", "--work", "sleep:5ms", "--grace-period", "1"});
  ASSERT_TRUE(waitFor([&] { return auditedLines() >= 200; }, 60s))
      << readFile(path("consumer-0.err"));
  const auto stopAt = Clock::now();
  consumers_[0].signal(SIGTERM);
  const auto status = consumers_[0].wait(60s);
  const auto stopTook = Clock::now() - stopAt;
  exitedEarly_.push_back(0);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 3) << "exit status 3 says the grace period ran out";
  EXPECT_LT(stopTook, 6s) << "took "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(stopTook).count()
                          << " ms for a 1 s grace period";
  const auto log = readFile(path("consumer-0.err"));
  EXPECT_NE(log.find("are not committed and will be redelivered"), std::string::npos) << log;

  // One member from a fresh group: every committed message is audited exactly once, and nothing
  // audited is left uncommitted.
  const size_t audited = auditedLines();
  int64_t committed = 0;
  for (const auto& [partition, offset] :
       kafka::AdminClient(clientConfig()).listGroupOffsets(group_)) {
    committed += offset;
  }
  EXPECT_EQ(static_cast<size_t>(committed), audited);
  EXPECT_LT(audited, 20000u);

  startConsumer("consumer");
  ASSERT_TRUE(waitFor([&] { return groupCaughtUp(); }, 120s)) << readFile(path("consumer-1.err"));
  stopConsumers();
  const auto report = verify({"p1=20000"});
  EXPECT_EQ(report["producers"][0]["duplicates"].get<uint64_t>(), 0u) << report.dump();
}

// A member that processes many partitions keeps a bounded number of per-partition histograms;
// every message is still measured in the group-wide one.
TEST_F(ServicesTest, PerPartitionHistogramsAreBounded) {
  const auto wide = uniqueName("services-wide");
  kafka::AdminClient(clientConfig()).createTopic({.name = wide, .partitions = 100});
  ChildProcess producer(
      {kEbb, "--log-level", "warn", "produce", "-b", bootstrapServers(), "-t", wide,
       "--producer-id", "p1", "--keys", "uniform:5000", "--rate", "0", "-n", "5000", "-o", "json"},
      path("p1.json"), path("p1.err"));
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  std::string output;
  ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                        wide, "-g", wide + "-group", "-n", "5000", "-o", "json"},
                       120s, &output),
            0)
      << output;
  const auto summary = nlohmann::json::parse(output.substr(output.find('{')));
  EXPECT_EQ(summary["end_to_end_latency"]["count"].get<uint64_t>(), 5000u);
  const auto tracked = summary["end_to_end_latency_by_partition"].size();
  const auto untracked = summary["partitions_without_histogram"].size();
  EXPECT_EQ(tracked, 64u);
  EXPECT_EQ(tracked + untracked, 100u);
}

TEST_F(ServicesTest, ClientManagedOffsetsResumeWhereTheFileSays) {
  auto producer = startProducer("p1", {"--rate", "0", "-n", "300"});
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  // Two runs of one member keeping offsets in a file; Kafka's committed offsets are never used.
  for (int run = 0; run < 2; ++run) {
    startConsumer("consumer", {"--offsets", "file:" + path("offsets"), "-n", "150"});
    ASSERT_EQ(consumers_.back().wait(120s), std::optional<int>(0))
        << readFile(path("consumer-" + std::to_string(run) + ".err"));
  }
  const auto report = verify({"p1=300"});
  EXPECT_EQ(report["producers"][0]["duplicates"].get<uint64_t>(), 0u) << report.dump();
  EXPECT_TRUE(kafka::AdminClient(clientConfig()).listGroupOffsets(group_).empty())
      << "file offsets must not be committed to Kafka";
  const auto offsets = readFile(path("offsets"));
  EXPECT_NE(offsets.find(topic_), std::string::npos) << offsets;
}

TEST_F(ServicesTest, MetricsAndHealthEndpoints) {
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  startConsumer("consumer",
                {"--http", "127.0.0.1:" + std::to_string(port), "--stats", path("stats.jsonl")});
  httplib::Client http("127.0.0.1", port);
  ASSERT_TRUE(waitFor([&] { return http.Get("/healthz") != nullptr; }, 30s))
      << readFile(path("consumer-0.err"));
  ASSERT_TRUE(waitFor(
      [&] {
        const auto ready = http.Get("/readyz");
        return ready && ready->status == 200;
      },
      60s));
  auto producer = startProducer("p1", {"--rate", "0", "-n", "1000"});
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0));
  ASSERT_TRUE(waitFor([&] { return auditedLines() >= 1000; }, 60s));
  std::this_thread::sleep_for(1500ms);  // metrics are refreshed once a second
  const auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(
      metrics->body.find("ebb_consumer_messages_consumed_total{group=\"" + group_ + "\"} 1000"),
      std::string::npos)
      << metrics->body;
  // A Prometheus histogram (summable across replicas): every message is counted in it.
  EXPECT_NE(metrics->body.find("ebb_consumer_end_to_end_latency_seconds_count{group=\"" + group_ +
                               "\"} 1000"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ebb_consumer_end_to_end_latency_seconds_bucket{group=\"" + group_ +
                               "\",le=\"0.0005\"}"),
            std::string::npos);
  stopConsumers();
  // The per-second stats lines account for every message, each second with its own percentiles.
  uint64_t inStats = 0;
  double worstP99 = 0;
  std::istringstream lines(readFile(path("stats.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    const auto second = nlohmann::json::parse(line);
    inStats += second["consumed"].get<uint64_t>();
    worstP99 = std::max(worstP99, second["p99_ms"].get<double>());
  }
  EXPECT_EQ(inStats, 1000u);
  EXPECT_GT(worstP99, 0.0);
}

TEST_F(ServicesTest, UnknownTopicIsAClearErrorForBothServices) {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {kEbb, "produce", "-b", bootstrapServers(), "-t", "no-such-topic", "-n", "1"},
           {kEbb, "consume", "-b", bootstrapServers(), "-t", "no-such-topic", "-g", "g",
            "--startup-timeout", "10"}}) {
    std::string output;
    const auto start = Clock::now();
    EXPECT_EQ(runCommand(command, 60s, &output), 1) << output;
    EXPECT_NE(output.find("unknown topic 'no-such-topic'"), std::string::npos) << output;
    EXPECT_LT(Clock::now() - start, 30s);
  }
}

// The producer's properties (--tune throughput sets five) reach only the producer: its internal
// admin handles are consumer-type and would print one CONFWARN per property.
TEST_F(ServicesTest, TunedProducerPropertiesReachOnlyTheProducer) {
  const std::string topic = "tuned-" + std::to_string(::getpid());
  kafka::AdminClient(clientConfig()).createTopic({.name = topic, .partitions = 3});
  std::string output;
  ASSERT_EQ(runCommand({kEbb, "--log-level", "info", "produce", "-b", bootstrapServers(), "-t",
                        topic, "-n", "1000", "--tune", "throughput", "--partitioner", "lag-aware",
                        "--lag-group", "tuned-watch", "-o", "json"},
                       60s, &output),
            0)
      << output;
  EXPECT_EQ(output.find("CONFWARN"), std::string::npos) << output;
  EXPECT_NE(output.find("\"acknowledged\": 1000"), std::string::npos) << output;

  // roundtrip: one set of properties for its producer and its consumer; the requests the load
  // became are counted from librdkafka's statistics.
  ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "roundtrip", "-b", bootstrapServers(), "-t",
                        topic + "-roundtrip", "-p", "3", "-n", "2000", "--rate", "2000", "--tune",
                        "throughput", "-o", "json"},
                       60s, &output),
            0)
      << output;
  EXPECT_EQ(output.find("CONFWARN"), std::string::npos) << output;
  const auto summary = nlohmann::json::parse(output.substr(output.find('{')));
  const auto requests = summary["produce_requests"].get<uint64_t>();
  EXPECT_GT(requests, 0u) << output;
  EXPECT_LT(requests, 2000u) << "batching: fewer requests than messages";
}

// roundtrip --warmup: the warm-up load goes first and is neither counted, timed nor consumed as
// measured messages; its requests are not in the count either.
TEST_F(ServicesTest, RoundtripWarmupIsNeitherCountedNorTimed) {
  std::string output;
  // Errors only: a warning of librdkafka's (e.g. a coordinator still loading) could follow the
  // JSON.
  ASSERT_EQ(runCommand({kEbb, "--log-level", "error", "roundtrip", "-b", bootstrapServers(), "-p",
                        "3", "-n", "1000", "--rate", "1000", "--warmup", "3000", "-o", "json"},
                       60s, &output),
            0)
      << output;
  const auto summary = nlohmann::json::parse(output.substr(output.find('{')));
  const auto& messages = summary["messages"];
  EXPECT_EQ(messages["sent"].get<uint64_t>(), 1000u) << output;
  EXPECT_EQ(messages["acknowledged"].get<uint64_t>(), 1000u) << output;
  EXPECT_EQ(messages["consumed"].get<uint64_t>(), 1000u) << output;
  EXPECT_EQ(messages["duplicates"].get<uint64_t>(), 0u) << output;
  const auto requests = summary["produce_requests"].get<uint64_t>();
  EXPECT_GT(requests, 0u) << output;
  // A request carries at least one message: more than 1,000 would count the warm-up's too.
  EXPECT_LE(requests, 1000u) << output;
  // The measured second (and its last acknowledgements), not the warm-up's 3 s before it.
  EXPECT_LT(summary["produce_seconds"].get<double>(), 2.9) << output;
}

TEST_F(ServicesTest, UnreachableClusterIsAClearErrorForBothServices) {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {kEbb, "produce", "-b", "127.0.0.1:1", "-t", "t", "-n", "1"},
           {kEbb, "consume", "-b", "127.0.0.1:1", "-t", "t", "-g", "g", "--startup-timeout",
            "3"}}) {
    std::string output;
    const auto start = Clock::now();
    EXPECT_EQ(runCommand(command, 60s, &output), 1) << output;
    EXPECT_NE(output.find("cannot fetch cluster metadata"), std::string::npos) << output;
    EXPECT_LT(Clock::now() - start, 30s);
  }
}

}  // namespace
}  // namespace ebb::test
