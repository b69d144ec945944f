// `ebb scale` with the local backend against the real broker: replicas follow a load step out and
// back in with nothing lost, a SIGKILLed replica is replaced, the keda policy's live decisions are
// the ones its model makes for the same lag sequence, and no replica outlives ebb scale.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/scale/policy_factory.h"
#include "kafka_environment.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;

const std::string kEbb = EBB_BINARY;
constexpr int32_t kPartitions = 12;

// Direct children of `parent`, from /proc.
std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...; comm may hold spaces, so parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != "Z") children.push_back(std::stoi(name));
  }
  return children;
}

// Running or stopped, but not gone and not a zombie waiting for a reaper.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.substr(close + 2, 1) != "Z";
}

class ScaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-scale");
    std::filesystem::create_directories(dir_ / "replicas");
    topic_ = uniqueName("scale");
    group_ = topic_ + "-group";
    kafka::AdminClient(clientConfig()).createTopic({.name = topic_, .partitions = kPartitions});
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // ebb scale with the given policy settings; replicas consume with 1 ms of I/O-bound work per
  // message and write their audit files next to their logs.
  ChildProcess startScale(const std::string& policy, const std::vector<std::string>& settings,
                          const std::vector<std::string>& replicaExtra = {},
                          const std::vector<std::string>& scaleExtra = {}) {
    std::vector<std::string> argv{kEbb,
                                  "scale",
                                  "-b",
                                  bootstrapServers(),
                                  "-t",
                                  topic_,
                                  "-g",
                                  group_,
                                  "--policy",
                                  policy,
                                  "--decisions",
                                  path("decisions.jsonl"),
                                  "--log-dir",
                                  path("replicas"),
                                  "--grace-period",
                                  "20",
                                  "-o",
                                  "json"};
    for (const auto& setting : settings) {
      argv.push_back("--set");
      argv.push_back(setting);
    }
    argv.insert(argv.end(), scaleExtra.begin(), scaleExtra.end());
    argv.insert(argv.end(), {"--", "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                             topic_, "-g", group_, "--work", "sleep:1ms", "--grace-period", "15",
                             "--audit", path("replicas/replica-{replica}.audit")});
    argv.insert(argv.end(), replicaExtra.begin(), replicaExtra.end());
    return ChildProcess(argv, path("scale.json"), path("scale.err"));
  }

  ChildProcess startProducer(const std::vector<std::string>& load) {
    std::vector<std::string> argv{
        kEbb, "--log-level", "warn",          "produce", "-b",     bootstrapServers(),
        "-t", topic_,        "--producer-id", "p1",      "--keys", "uniform:500",
        "-o", "json"};
    argv.insert(argv.end(), load.begin(), load.end());
    return ChildProcess(argv, path("producer.json"), path("producer.err"));
  }

  std::vector<nlohmann::json> decisions() const {
    std::vector<nlohmann::json> result;
    std::ifstream in(path("decisions.jsonl"));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) result.push_back(nlohmann::json::parse(line));
    }
    return result;
  }

  static int64_t totalLag(const nlohmann::json& decision) {
    int64_t lag = 0;
    for (const auto& p : decision["observation"]["partitions"]) {
      const int64_t committed =
          p[3].get<int64_t>() >= 0 ? p[3].get<int64_t>() : p[1].get<int64_t>();
      lag += std::max<int64_t>(0, p[2].get<int64_t>() - committed);
    }
    return lag;
  }

  // Once the replicas have caught up (a stopped member fetches nothing more), stops ebb scale with
  // SIGTERM (every replica drains and commits), then checks with ebb verify that each acknowledged
  // message was processed: nothing lost, per-key order kept.
  void stopAndVerifyNothingLost(ChildProcess& scale, uint64_t acknowledged) {
    ASSERT_TRUE(waitUntil([&] { return groupCaughtUp(group_, topic_, kPartitions); }, 120s))
        << "the replicas did not catch up\n"
        << readFile(path("scale.err"));
    ASSERT_NO_FATAL_FAILURE(stopScale(scale));
    verifyReplicaAudits(acknowledged);
  }

  // SIGTERM: every replica drains and commits, then ebb scale exits 0.
  void stopScale(ChildProcess& scale) {
    scale.signal(SIGTERM);
    ASSERT_EQ(scale.wait(90s), std::optional<int>(0)) << readFile(path("scale.err"));
  }

  // For a policy that never settles (cycle): stops ebb scale first (every replica drains and
  // commits), then one more member of the group reads what is left and stops once the group has
  // caught up; the check is the same. Under the classic protocol a rebalance can take longer than
  // the cycle's period on a loaded machine, so the churning group itself may never catch up.
  void stopChurnFinishAndVerify(ChildProcess& scale, uint64_t acknowledged,
                                const std::string& protocol) {
    ASSERT_NO_FATAL_FAILURE(stopScale(scale));
    ChildProcess finisher({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                           topic_, "-g", group_, "--group-protocol", protocol, "-X",
                           "client.id=ebb-finisher", "--audit", path("replicas/finisher.audit")},
                          path("finisher.out"), path("finisher.err"));
    // The drained replicas may have left the group caught up already: the finisher must have joined
    // (its signal handlers installed) before it is told to stop, or SIGTERM meets a process still
    // starting and ends it with 143. Under the classic protocol a replica whose LeaveGroup did not
    // reach the coordinator holds the join until its session times out (45 s), and the rebalance
    // comes after that: 60 s was seen to be too short once on a loaded machine.
    const auto finisherJoined = [&] {
      for (const auto& member : kafka::AdminClient(clientConfig()).describeGroup(group_).members) {
        if (member.clientId == "ebb-finisher" && !member.assignment.empty()) return true;
      }
      return false;
    };
    ASSERT_TRUE(waitUntil(finisherJoined, 120s)) << "the finisher did not join the group\n"
                                                 << readFile(path("finisher.err"));
    ASSERT_TRUE(waitUntil([&] { return groupCaughtUp(group_, topic_, kPartitions); }, 120s))
        << "the group did not catch up after the scale events\n"
        << readFile(path("finisher.err"));
    finisher.signal(SIGTERM);
    ASSERT_EQ(finisher.wait(60s), std::optional<int>(0)) << readFile(path("finisher.err"));
    verifyReplicaAudits(acknowledged);
  }

  // ebb verify over every audit under replicas/: each acknowledged message processed, in key order.
  void verifyReplicaAudits(uint64_t acknowledged) {
    std::vector<std::string> argv{kEbb,   "verify",   "-o",
                                  "json", "--expect", "p1=" + std::to_string(acknowledged)};
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "replicas")) {
      if (entry.path().extension() == ".audit") {
        argv.push_back("--audit");
        argv.push_back(entry.path().string());
      }
    }
    std::string output;
    EXPECT_EQ(runCommand(argv, 120s, &output), 0) << "loss or reordering:\n" << output;
  }

  uint64_t producerAcknowledged(ChildProcess& producer) {
    EXPECT_EQ(producer.wait(300s), std::optional<int>(0)) << readFile(path("producer.err"));
    const auto summary = nlohmann::json::parse(readFile(path("producer.json")));
    EXPECT_EQ(summary["failed"].get<uint64_t>(), 0u);
    return summary["acknowledged"].get<uint64_t>();
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
};

// Many scale events under load, with warm standbys and cold starts mixed: 2 -> 3 -> 2 ... every
// 1.5 s, at least 50 of them, for both group protocols; nothing is lost, per-key order holds.
class ScaleEventsTest : public ScaleTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ScaleEventsTest, FiftyScaleEventsUnderLoadLoseNothing) {
  auto scale = startScale("cycle", {"counts=2,3", "period=1500ms", "interval=250ms"},
                          {"--group-protocol", GetParam()}, {"--warm", "1"});
  // Produce until 50 scale events happened (a period of 1.5 s each: about 80 s; a round can take
  // longer on a loaded machine, so the load lasts as long as the events need, up to 240 s), then
  // stop the producer: it flushes and reports what was acknowledged.
  auto producer = startProducer({"--rate", "400", "--duration", "240"});
  const auto events = [&] {
    int count = 0;
    int previous = -1;
    for (const auto& decision : decisions()) {
      const int replicas = decision["replicas"].get<int>();
      if (previous > 0 && replicas != previous) ++count;
      previous = replicas;
    }
    return count;
  };
  EXPECT_TRUE(waitUntil([&] { return events() >= 50; }, 230s)) << readFile(path("scale.err"));
  producer.signal(SIGTERM);
  const uint64_t acknowledged = producerAcknowledged(producer);
  EXPECT_GE(events(), 50) << readFile(path("scale.err"));
  // Standbys took part: the backend activated them instead of starting every replica cold.
  EXPECT_NE(readFile(path("scale.err")).find("activated (a standby for"), std::string::npos);
  stopChurnFinishAndVerify(scale, acknowledged, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Protocols, ScaleEventsTest, ::testing::Values("consumer", "classic"),
                         [](const ::testing::TestParamInfo<std::string>& protocol) {
                           return protocol.param;
                         });

TEST_F(ScaleTest, SloFollowsALoadStepOutAndBackInWithNothingLost) {
  auto scale = startScale("slo", {"service-rate=800", "scale-in-delay=10s", "max-replicas=6"});
  // 300 msg/s, 8x (2,400 msg/s: about three replicas' worth) from 15 s to 50 s, then 300 again.
  auto producer =
      startProducer({"--rate", "300", "--profile", "spike:15:35:8", "--duration", "95"});
  const uint64_t acknowledged = producerAcknowledged(producer);
  // Let the replicas catch up and the policy scale in after the spike.
  ASSERT_TRUE(waitUntil(
      [&] {
        const auto all = decisions();
        if (all.empty()) return false;
        int peak = 0;
        for (const auto& decision : all) peak = std::max(peak, decision["replicas"].get<int>());
        return totalLag(all.back()) < 1000 && all.back()["replicas"].get<int>() < peak;
      },
      120s))
      << readFile(path("scale.err"));
  const auto all = decisions();
  int peak = 0;
  int64_t peakLag = 0;
  for (const auto& decision : all) {
    peak = std::max(peak, decision["replicas"].get<int>());
    peakLag = std::max(peakLag, totalLag(decision));
  }
  EXPECT_GE(peak, 3) << "the spike needs about three replicas";
  EXPECT_LE(peak, 6);
  EXPECT_EQ(all.front()["replicas"].get<int>(), 1) << all.front().dump();
  EXPECT_LT(all.back()["replicas"].get<int>(), peak) << all.back().dump();
  EXPECT_GT(peakLag, 0);
  stopAndVerifyNothingLost(scale, acknowledged);
}

// The HPA's and KEDA's decisions follow from the lag sequence alone: replaying the observations
// ebb scale recorded through a fresh keda policy gives the same replica counts and reasons, and
// those counts moved with the lag (the run scaled out and stayed within the partition cap).
TEST_F(ScaleTest, KedaDecisionsAreTheModelsForTheRecordedLagSequence) {
  const std::map<std::string, std::string> settings{
      {"lagThreshold", "300"},          {"minReplicaCount", "1"}, {"maxReplicaCount", "6"},
      {"pollingInterval", "1s"},        {"syncPeriod", "1s"},     {"cooldownPeriod", "10s"},
      {"downscaleStabilization", "10s"}};
  std::vector<std::string> flags;
  for (const auto& [key, value] : settings) flags.push_back(key + "=" + value);
  auto scale = startScale("keda", flags);
  auto producer = startProducer({"--rate", "300", "--profile", "spike:5:20:8", "--duration", "35"});
  const uint64_t acknowledged = producerAcknowledged(producer);
  ASSERT_TRUE(waitUntil([&] { return decisions().size() >= 45; }, 60s));
  stopAndVerifyNothingLost(scale, acknowledged);

  auto policy = scale::makePolicy("keda", settings);
  int peak = 0;
  for (const auto& recorded : decisions()) {
    scale::Observation observation{
        .at = scale::Millis(recorded["observation"]["at_ms"].get<int64_t>()),
        .currentReplicas = recorded["observation"]["replicas"].get<int32_t>()};
    for (const auto& p : recorded["observation"]["partitions"]) {
      observation.partitions.push_back({.partition = p[0].get<int32_t>(),
                                        .logStart = p[1].get<int64_t>(),
                                        .logEnd = p[2].get<int64_t>(),
                                        .committed = p[3].get<int64_t>()});
    }
    const auto replayed = policy->decide(observation);
    ASSERT_EQ(replayed.replicas, recorded["replicas"].get<int32_t>()) << recorded.dump();
    EXPECT_EQ(replayed.reason, recorded["reason"].get<std::string>());
    peak = std::max(peak, replayed.replicas);
  }
  EXPECT_GE(peak, 2) << "lag above 300 per replica must scale out";
  EXPECT_LE(peak, 6);
}

TEST_F(ScaleTest, KilledReplicaIsReplacedAndNothingIsLost) {
  auto scale = startScale("static", {"replicas=3"});
  ASSERT_TRUE(waitUntil([&] { return childrenOf(scale.pid()).size() == 3; }, 60s))
      << readFile(path("scale.err"));
  auto producer = startProducer({"--rate", "1000", "--duration", "20"});
  std::this_thread::sleep_for(5s);
  const auto before = childrenOf(scale.pid());
  ASSERT_EQ(before.size(), 3u);
  ASSERT_EQ(::kill(before[1], SIGKILL), 0);
  // A fourth replica number appears: the killed one was replaced.
  ASSERT_TRUE(waitUntil(
      [&] {
        const auto now = childrenOf(scale.pid());
        return now.size() == 3 && std::ranges::find(now, before[1]) == now.end();
      },
      30s))
      << readFile(path("scale.err"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "replicas" / "replica-3.log"));
  EXPECT_NE(readFile(path("scale.err")).find("replacing it"), std::string::npos);
  const uint64_t acknowledged = producerAcknowledged(producer);
  // The killed member's partitions come back after its session times out, then the lag goes.
  stopAndVerifyNothingLost(scale, acknowledged);
}

TEST_F(ScaleTest, ReplicasDoNotOutliveAKilledScaler) {
  auto scale = startScale("static", {"replicas=2"});
  ASSERT_TRUE(waitUntil([&] { return childrenOf(scale.pid()).size() == 2; }, 60s))
      << readFile(path("scale.err"));
  const auto replicas = childrenOf(scale.pid());
  scale.signal(SIGKILL);
  ASSERT_TRUE(scale.wait(10s).has_value());
  // The kernel tells each replica its parent died (SIGTERM); each drains and exits.
  EXPECT_TRUE(waitUntil(
      [&] { return std::ranges::none_of(replicas, [](pid_t pid) { return alive(pid); }); }, 40s));
  for (const pid_t pid : replicas) {
    if (alive(pid)) ::kill(pid, SIGKILL);  // do not leave them behind if the check failed
  }
}

// A process's argv, from /proc (empty when it is gone).
std::vector<std::string> commandLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  return argv;
}

// Client properties (here a secret) reach the default replicas in a private file, and appear on no
// process's command line and in no log.
TEST_F(ScaleTest, DefaultReplicasGetTheClientPropertiesButNotOnTheirCommandLine) {
  const std::string canary = uniqueName("canary-password");
  {
    std::ofstream file(path("client.properties"));
    file << "# credentials\nsasl.password = " << canary << "\nclient.rack=rack-a\n";
  }
  std::filesystem::permissions(path("client.properties"), std::filesystem::perms::owner_read |
                                                              std::filesystem::perms::owner_write);
  ChildProcess scale({kEbb, "scale", "-b", bootstrapServers(), "-t", topic_, "-g", group_, "-F",
                      path("client.properties"), "--policy", "static", "--set", "replicas=2",
                      "--log-dir", path("replicas"), "--grace-period", "20"},
                     path("scale.out"), path("scale.err"));
  ASSERT_TRUE(waitUntil([&] { return childrenOf(scale.pid()).size() == 2; }, 60s))
      << readFile(path("scale.err"));
  std::filesystem::path handedOver;
  for (const pid_t replica : childrenOf(scale.pid())) {
    const auto argv = commandLine(replica);
    const auto flag = std::find(argv.begin(), argv.end(), "-F");
    ASSERT_NE(flag, argv.end()) << "the replica was started without -F";
    ASSERT_NE(flag + 1, argv.end());
    handedOver = *(flag + 1);
  }
  EXPECT_NE(handedOver, std::filesystem::path(path("client.properties")));
  const auto mode = std::filesystem::status(handedOver).permissions();
  EXPECT_EQ(mode & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto handedText = readFile(handedOver.string());
  EXPECT_NE(handedText.find("sasl.password=" + canary), std::string::npos);
  EXPECT_NE(handedText.find("client.rack=rack-a"), std::string::npos);
  ASSERT_TRUE(waitUntil(
      [&] {
        try {
          return kafka::AdminClient(clientConfig()).describeGroup(group_).members.size() == 2;
        } catch (const std::exception&) {
          return false;
        }
      },
      60s))
      << "the replicas did not join with the handed-over properties: "
      << readFile(path("scale.err"));
  // No process of this machine shows the secret on its command line.
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    for (const auto& arg : commandLine(std::stoi(name))) {
      ASSERT_EQ(arg.find(canary), std::string::npos) << "pid " << name << " shows the secret";
    }
  }
  scale.signal(SIGTERM);
  ASSERT_TRUE(scale.wait(60s).has_value()) << readFile(path("scale.err"));
  EXPECT_FALSE(std::filesystem::exists(handedOver)) << "the private file outlived ebb scale";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file() || entry.path() == path("client.properties")) continue;
    EXPECT_EQ(readFile(entry.path().string()).find(canary), std::string::npos)
        << entry.path() << " shows the secret";
  }
}

TEST_F(ScaleTest, UnknownTopicAndBadPolicySettingsAreClearErrors) {
  std::string output;
  EXPECT_EQ(runCommand({kEbb, "scale", "-b", bootstrapServers(), "-t", "no-such-topic", "-g", "g"},
                       60s, &output),
            1)
      << output;
  EXPECT_NE(output.find("unknown topic 'no-such-topic'"), std::string::npos) << output;
  EXPECT_NE(runCommand({kEbb, "scale", "-b", bootstrapServers(), "-t", topic_, "-g", "g",
                        "--policy", "slo", "--set", "objective=fast"},
                       60s, &output),
            0);
  EXPECT_NE(output.find("objective"), std::string::npos) << output;
}

}  // namespace
}  // namespace ebb::test
