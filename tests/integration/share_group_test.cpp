// Share groups (KIP-932) through `ebb consume --group-type share` against the real broker: more
// members than partitions, members joining, leaving and SIGKILLed with nothing lost, and malformed
// records rejected.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/producer.h"
#include "kafka_environment.h"
#include "test_producer.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kEbb = EBB_BINARY;

nlohmann::json parseJson(const std::string& output) {
  const auto start = output.find('{');
  return start == std::string::npos ? nlohmann::json()
                                    : nlohmann::json::parse(output.substr(start));
}

class ShareGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-share");
    std::filesystem::create_directories(dir_);
    topic_ = uniqueName("share");
    group_ = topic_ + "-group";
  }
  void TearDown() override {
    members_.clear();  // kills whatever is still running
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void createTopic(int32_t partitions) {
    kafka::AdminClient(clientConfig()).createTopic({.name = topic_, .partitions = partitions});
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string memberFile(size_t index, const std::string& suffix) const {
    return path("member-" + std::to_string(index) + suffix);
  }

  std::vector<std::string> consumeArgv(size_t index, const std::vector<std::string>& extra) const {
    std::vector<std::string> argv{kEbb,           "--log-level",
                                  "warn",         "consume",
                                  "-b",           bootstrapServers(),
                                  "-t",           topic_,
                                  "-g",           group_,
                                  "--group-type", "share",
                                  "--audit",      memberFile(index, ".audit"),
                                  "-o",           "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Starts a member of the share group writing its own audit file; returns its index.
  size_t startMember(const std::vector<std::string>& extra = {}) {
    const size_t index = members_.size();
    members_.emplace_back(consumeArgv(index, extra), memberFile(index, ".json"),
                          memberFile(index, ".err"));
    return index;
  }

  // Runs a member to completion (it stops at its --count); returns its JSON summary.
  nlohmann::json runMember(const std::vector<std::string>& extra) {
    const size_t index = members_.size();
    members_.emplace_back(consumeArgv(index, extra), memberFile(index, ".json"),
                          memberFile(index, ".err"));
    const auto status = members_.back().wait(120s);
    EXPECT_EQ(status, std::optional<int>(0)) << readFile(memberFile(index, ".err"));
    return nlohmann::json::parse(readFile(memberFile(index, ".json")));
  }

  ChildProcess startProducer(const std::vector<std::string>& load) {
    std::vector<std::string> argv{
        kEbb, "--log-level", "warn",          "produce", "-b",     bootstrapServers(),
        "-t", topic_,        "--producer-id", "p1",      "--keys", "uniform:1000",
        "-o", "json"};
    argv.insert(argv.end(), load.begin(), load.end());
    return ChildProcess(argv, path("p1.json"), path("p1.err"));
  }

  uint64_t produce(uint64_t count) {
    auto producer = startProducer({"--rate", "0", "-n", std::to_string(count)});
    EXPECT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
    return nlohmann::json::parse(readFile(path("p1.json")))["acknowledged"].get<uint64_t>();
  }

  size_t audited() const {
    size_t total = 0;
    for (size_t i = 0; i < members_.size(); ++i) total += countLines(memberFile(i, ".audit"));
    return total;
  }

  // `ebb verify` over every member's audit: its exit status, and its JSON report in `report`.
  int verify(uint64_t sent, nlohmann::json* report = nullptr) const {
    std::vector<std::string> argv{kEbb,   "verify",   "-o",
                                  "json", "--expect", "p1=" + std::to_string(sent)};
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!std::filesystem::exists(memberFile(i, ".audit"))) continue;
      argv.push_back("--audit");
      argv.push_back(memberFile(i, ".audit"));
    }
    std::string output;
    const int status = runCommand(argv, 60s, &output);
    if (report != nullptr) *report = parseJson(output);
    return status;
  }

  // SIGTERM the members still running; each drains, releases what it holds and exits 0.
  void stopMembers(const std::vector<size_t>& indexes) {
    for (const size_t i : indexes) members_[i].signal(SIGTERM);
    for (const size_t i : indexes) {
      const auto status = members_[i].wait(30s);
      ASSERT_TRUE(status.has_value()) << "member " << i << " did not stop within 30 s";
      EXPECT_EQ(*status, 0) << "member " << i << ": " << readFile(memberFile(i, ".err"));
    }
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
  std::vector<ChildProcess> members_;
};

// Four members on two partitions under load: two join late, one leaves (SIGTERM), one is
// SIGKILLed. A share group hands nothing over, so every member gets records; the killed member's
// acquired records return to the others when its locks expire (or its session ends), and `ebb
// verify` finds every record processed at least once.
TEST_F(ShareGroupTest, MembersPastThePartitionCountJoinLeaveAndDieLosingNothing) {
  createTopic(2);
  startMember();
  startMember({"--work", "sleep:200us"});
  auto producer = startProducer({"--rate", "3000", "--duration", "10"});
  ASSERT_TRUE(waitUntil([&] { return audited() >= 1000; }, 60s))
      << readFile(memberFile(0, ".err")) << readFile(memberFile(1, ".err"));
  startMember();
  startMember();
  std::this_thread::sleep_for(3s);
  members_[0].signal(SIGTERM);  // graceful leave while the load goes on
  EXPECT_EQ(members_[0].wait(30s), std::optional<int>(0)) << readFile(memberFile(0, ".err"));
  std::this_thread::sleep_for(2s);
  members_[1].signal(SIGKILL);
  const auto killedAt = Clock::now();
  EXPECT_EQ(members_[1].wait(10s), std::optional<int>(128 + SIGKILL));
  ASSERT_EQ(producer.wait(60s), std::optional<int>(0)) << readFile(path("p1.err"));
  const auto sent = nlohmann::json::parse(readFile(path("p1.json")))["sent"].get<uint64_t>();
  EXPECT_GT(sent, 20'000u);
  ASSERT_TRUE(waitUntil([&] { return verify(sent) == 0; }, 120s))
      << "only " << audited() << " audit lines for " << sent << " records";
  const auto backAfter =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killedAt).count();
  ::testing::Test::RecordProperty("all_processed_after_kill_ms", std::to_string(backAfter));
  std::cout << "every record processed " << backAfter << " ms after the SIGKILL\n";
  stopMembers({2, 3});
  nlohmann::json report;
  EXPECT_EQ(verify(sent, &report), 0) << report.dump();
  EXPECT_TRUE(report["order_informational"].get<bool>()) << report.dump();
  size_t served = 0;
  for (size_t i = 0; i < members_.size(); ++i) served += countLines(memberFile(i, ".audit")) > 0;
  EXPECT_GE(served, 3u) << "a share group serves more members than its 2 partitions";
  uint64_t redelivered = 0;
  for (const size_t i : {0, 2, 3}) {
    const auto summary = nlohmann::json::parse(readFile(memberFile(i, ".json")));
    EXPECT_EQ(summary["group_type"], "share");
    redelivered += summary["redelivered"].get<uint64_t>();
  }
  ::testing::Test::RecordProperty("redelivered", std::to_string(redelivered));
}

// A member stopped in the middle of a long batch finishes what its grace period allows and
// releases the rest at once, with inline processing (--workers 1) and with worker threads
// (--workers 2). Released records come back with a delivery count of 2, which a member with
// --max-deliveries 1 rejects unprocessed; the records nobody held are delivered once and accepted.
class ShareGraceTest : public ShareGroupTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ShareGraceTest, ReleasedRecordsReturnAndMaxDeliveriesRejectsThem) {
  createTopic(1);
  ASSERT_EQ(produce(5), 5u);
  const size_t slow =
      startMember({"--workers", GetParam(), "--work", "sleep:20ms:fixed", "--grace-period", "0.2"});
  // The member is polling once it has processed the first records; the next 300 are one long
  // batch for it (about 6 s of work inline, 3 s over two workers), stopped after 1 s.
  ASSERT_TRUE(waitUntil([&] { return countLines(memberFile(slow, ".audit")) >= 5; }, 60s))
      << readFile(memberFile(slow, ".err"));
  ASSERT_EQ(produce(300), 300u);
  std::this_thread::sleep_for(1s);
  const auto stoppedAt = Clock::now();
  members_[slow].signal(SIGTERM);
  // Exit status 3: stopped, but not everything it held was processed within the grace period.
  EXPECT_EQ(members_[slow].wait(30s), std::optional<int>(3)) << readFile(memberFile(slow, ".err"));
  EXPECT_LT(Clock::now() - stoppedAt, 3s) << "the grace period is 0.2 s";
  const auto first = nlohmann::json::parse(readFile(memberFile(slow, ".json")));
  const auto accepted = first["acknowledgements"]["accepted"].get<uint64_t>();
  const auto released = first["acknowledgements"]["released"].get<uint64_t>();
  ASSERT_GT(released, 0u) << first.dump();
  EXPECT_FALSE(first["drained_in_time"].get<bool>());
  EXPECT_EQ(accepted, countLines(memberFile(slow, ".audit")));
  ASSERT_LT(accepted, 305u);

  const auto second = runMember({"--max-deliveries", "1", "-n", std::to_string(305 - accepted)});
  const auto rejected = second["acknowledgements"]["rejected"].get<uint64_t>();
  // Everything released comes back redelivered and is rejected (records the first member's
  // client had acquired without handing them over come back so too, when it left).
  EXPECT_GE(rejected, released) << second.dump();
  EXPECT_EQ(second["redelivered"].get<uint64_t>(), rejected) << second.dump();
  EXPECT_EQ(accepted + rejected + second["acknowledgements"]["accepted"].get<uint64_t>(), 305u)
      << second.dump();
  // The audit carries each record's delivery count: those accepted here were delivered once.
  std::istringstream audit(readFile(memberFile(slow + 1, ".audit")));
  for (std::string line; std::getline(audit, line);) {
    EXPECT_EQ(line.substr(line.rfind('\t') + 1), "1") << line;
  }
}

INSTANTIATE_TEST_SUITE_P(InlineAndWorkers, ShareGraceTest, ::testing::Values("1", "2"),
                         [](const auto& instance) { return "workers" + instance.param; });

TEST_F(ShareGroupTest, MalformedRecordsAreRejected) {
  createTopic(3);
  {
    DeliveryLog deliveries;
    kafka::Producer raw(clientConfig(), &deliveries);
    const kafka::Header garbage[] = {{"ebb-seq", "x"}, {"ebb-ts", "soon"}, {"ebb-producer", "?"}};
    for (uint64_t i = 0; i < 25; ++i) {
      sendOrFail(raw, topic_, kafka::kAnyPartition, "k", "plain", {}, i);
      sendOrFail(raw, topic_, kafka::kAnyPartition, "k", "garbage", garbage, i);
    }
    ASSERT_TRUE(raw.flush(30s));
    ASSERT_EQ(deliveries.failed, 0u);
  }
  ASSERT_EQ(produce(100), 100u);
  const auto summary = runMember({"-n", "150"});
  EXPECT_EQ(summary["consumed"].get<uint64_t>(), 150u) << summary.dump();
  EXPECT_EQ(summary["malformed"].get<uint64_t>(), 50u);
  EXPECT_EQ(summary["acknowledgements"]["rejected"].get<uint64_t>(), 50u);
  EXPECT_EQ(summary["acknowledgements"]["accepted"].get<uint64_t>(), 100u);
  EXPECT_EQ(verify(100), 0);
}

// A share member started as a standby (what ebb scale --warm keeps ready) makes its client and
// waits outside the group: nothing is delivered to it until SIGUSR1, then it subscribes and works.
TEST_F(ShareGroupTest, AStandbyJoinsOnlyWhenActivated) {
  createTopic(2);
  ASSERT_EQ(produce(200), 200u);
  const size_t standby = startMember({"--standby", "-n", "200"});
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(countLines(memberFile(standby, ".audit")), 0u);
  EXPECT_FALSE(members_[standby].wait(0ms).has_value()) << readFile(memberFile(standby, ".err"));
  members_[standby].signal(SIGUSR1);
  ASSERT_EQ(members_[standby].wait(60s), std::optional<int>(0))
      << readFile(memberFile(standby, ".err"));
  EXPECT_EQ(countLines(memberFile(standby, ".audit")), 200u);
  EXPECT_EQ(verify(200), 0);
}

}  // namespace
}  // namespace ebb::test
