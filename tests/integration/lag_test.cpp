// `ebb lag` against the real broker: the same offsets, lag and owners as Kafka's own
// ConsumerGroupCommand (kafka-consumer-groups.sh, from the kafka-tools jar), and the exporter's
// /metrics.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "ebb/kafka/admin_client.h"
#include "kafka_environment.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;

const std::string kEbb = EBB_BINARY;
const std::string kKafkaScript = std::string(EBB_SOURCE_DIR) + "/tools/kafka/kafka.sh";

// One row of `kafka-consumer-groups.sh --describe`.
struct JavaRow {
  int64_t current = -1;  // "-": nothing committed
  int64_t logEnd = 0;
  int64_t lag = 0;
  std::string clientId;  // "-": no owner
};

int64_t offsetOrMinusOne(const std::string& cell) { return cell == "-" ? -1 : std::stoll(cell); }

// Partition -> cells by column name, from the whitespace-separated table a Kafka group command
// prints (header row starting with GROUP), for `topic`'s rows.
using JavaTable = std::map<int32_t, std::map<std::string, std::string>>;
JavaTable javaTable(const std::string& commandClass, const std::vector<std::string>& args,
                    const std::string& topic) {
  std::vector<std::string> argv{kKafkaScript, "run-class", commandClass, "--bootstrap-server",
                                bootstrapServers()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  const int status = runCommand(argv, 120s, &output);
  EXPECT_EQ(status, 0) << output;
  JavaTable rows;
  std::istringstream lines(output);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string cell; cells >> cell;) row.push_back(cell);
    if (!row.empty() && row[0] == "GROUP") {
      header = row;
      continue;
    }
    if (header.empty() || row.size() != header.size() || row[1] != topic) continue;
    auto& cells_by_name = rows[std::stoi(row[2])];
    for (size_t i = 0; i < header.size(); ++i) cells_by_name[header[i]] = row[i];
  }
  return rows;
}

std::map<int32_t, JavaRow> describeWithJava(const std::string& group, const std::string& topic) {
  std::map<int32_t, JavaRow> rows;
  for (auto& [partition, cell] :
       javaTable("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                 {"--describe", "--group", group}, topic)) {
    rows[partition] = {offsetOrMinusOne(cell["CURRENT-OFFSET"]), std::stoll(cell["LOG-END-OFFSET"]),
                       offsetOrMinusOne(cell["LAG"]), cell["CLIENT-ID"]};
  }
  return rows;
}

// `interval`: seconds between the two readings behind rates (commits land once a second).
nlohmann::json lagJson(const std::string& group, const std::string& topic,
                       const std::string& interval = "0.2",
                       const std::string& groupType = "consumer") {
  std::string output;
  const int status =
      runCommand({kEbb, "--log-level", "warn", "lag", "-b", bootstrapServers(), "-g", group, "-t",
                  topic, "-o", "json", "--interval", interval, "--group-type", groupType},
                 60s, &output);
  EXPECT_EQ(status, 0) << output;
  return nlohmann::json::parse(output.substr(output.find('{')));
}

class LagTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-lag");
    std::filesystem::create_directories(dir_);
    topic_ = uniqueName("lag");
    group_ = topic_ + "-group";
    kafka::AdminClient(clientConfig()).createTopic({.name = topic_, .partitions = 6});
    std::string output;
    ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "produce", "-b", bootstrapServers(), "-t",
                          topic_, "--rate", "0", "-n", "6000", "--keys", "uniform:100"},
                         60s, &output),
              0)
        << output;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // One /metrics page of `ebb lag --http` for the group, once it reads ready.
  std::string scrapeExporter(const std::string& groupType) {
    const int port = 40000 + static_cast<int>(::getpid() % 20000);
    ChildProcess exporter(
        {kEbb, "lag", "-b", bootstrapServers(), "-g", group_, "-t", topic_, "--group-type",
         groupType, "--http", "127.0.0.1:" + std::to_string(port), "--interval", "0.5"},
        "", path("exporter.err"));
    httplib::Client http("127.0.0.1", port);
    EXPECT_TRUE(waitUntil(
        [&] {
          const auto ready = http.Get("/readyz");
          return ready && ready->status == 200;
        },
        60s))
        << readFile(path("exporter.err"));
    const auto metrics = http.Get("/metrics");
    exporter.signal(SIGTERM);
    EXPECT_EQ(exporter.wait(30s), std::optional<int>(0));
    return metrics ? metrics->body : std::string();
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
};

// Each reading asks the cluster for the named topic's metadata only, never for every topic of
// the cluster (librdkafka's debug log names each metadata request).
TEST_F(LagTest, ReadingsAskForTheNamedTopicOnly) {
  ChildProcess lag({kEbb, "--log-level", "debug", "lag", "-b", bootstrapServers(), "-g", group_,
                    "-t", topic_, "--interval", "0.5", "-X", "debug=metadata"},
                   path("lag.out"), path("lag.err"));
  ASSERT_EQ(lag.wait(60s), std::optional<int>(0)) << readFile(path("lag.err"));
  const auto log = readFile(path("lag.err"));
  EXPECT_NE(log.find("Request metadata for 1 topic(s): application requested"), std::string::npos)
      << log.substr(0, 4000);
  EXPECT_EQ(log.find("Request metadata for all topics"), std::string::npos) << log.substr(0, 4000);
}

TEST_F(LagTest, OffsetsAndLagMatchConsumerGroupCommand) {
  // A group that processed part of the topic and left: committed offsets, no members.
  std::string output;
  ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                        topic_, "-g", group_, "-n", "2500"},
                       120s, &output),
            0)
      << output;
  const auto java = describeWithJava(group_, topic_);
  const auto ebb = lagJson(group_, topic_);
  // An empty group: Java lists only the partitions it has committed for; ebb lists them all.
  ASSERT_FALSE(java.empty());
  ASSERT_EQ(ebb["partitions"].size(), 6u) << ebb.dump(2);
  int64_t totalLag = 0;
  for (const auto& row : ebb["partitions"]) {
    totalLag += row["lag"].get<int64_t>();
    const auto it = java.find(row["partition"].get<int32_t>());
    if (it == java.end()) {
      EXPECT_EQ(row["committed_offset"].get<int64_t>(), -1) << row.dump();
      continue;
    }
    const auto& expected = it->second;
    EXPECT_EQ(row["log_end_offset"].get<int64_t>(), expected.logEnd) << row.dump();
    EXPECT_EQ(row["committed_offset"].get<int64_t>(), expected.current) << row.dump();
    // Java prints "-" as the lag of a partition without a commit; ebb counts it from the start.
    if (expected.current >= 0) {
      EXPECT_EQ(row["lag"].get<int64_t>(), expected.lag) << row.dump();
    }
  }
  EXPECT_EQ(totalLag, 6000 - 2500);
  EXPECT_EQ(ebb["lag"].get<int64_t>(), 3500);
  EXPECT_EQ(ebb["members"].get<int>(), 0);
  EXPECT_GT(ebb["max_lag_seconds"].get<double>(), 0.0);
}

TEST_F(LagTest, OwnersMatchConsumerGroupCommandWhileMembersRun) {
  std::vector<ChildProcess> consumers;
  for (const char* id : {"lag-member-a", "lag-member-b"}) {
    consumers.emplace_back(
        std::vector<std::string>{kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(),
                                 "-t", topic_, "-g", group_, "--work", "sleep:5ms", "-X",
                                 std::string("client.id=") + id},
        "", path(std::string(id) + ".err"));
  }
  // Both members own partitions and the group committed something.
  ASSERT_TRUE(waitUntil(
      [&] {
        const auto ebb = lagJson(group_, topic_);
        std::set<std::string> owners;
        bool committed = false;
        for (const auto& row : ebb["partitions"]) {
          owners.insert(row["owner"].get<std::string>());
          committed = committed || row["committed_offset"].get<int64_t>() > 0;
        }
        return ebb["members"].get<int>() == 2 && !owners.contains("") && owners.size() == 2 &&
               committed;
      },
      90s))
      << readFile(path("lag-member-a.err")) << readFile(path("lag-member-b.err"));
  const auto java = describeWithJava(group_, topic_);
  const auto ebb = lagJson(group_, topic_, "3");
  for (const auto& row : ebb["partitions"]) {
    const auto& expected = java.at(row["partition"].get<int32_t>());
    EXPECT_EQ(row["owner"].get<std::string>(), expected.clientId) << row.dump();
    EXPECT_EQ(row["log_end_offset"].get<int64_t>(), expected.logEnd) << row.dump();
  }
  // Consumption is running: the history of the two readings shows it.
  EXPECT_GT(ebb["topics"][0]["consume_rate"].get<double>(), 0.0) << ebb.dump(2);
  for (auto& consumer : consumers) consumer.signal(SIGTERM);
  for (auto& consumer : consumers) EXPECT_EQ(consumer.wait(60s), std::optional<int>(0));
}

TEST_F(LagTest, ExporterServesLagAsPrometheusMetrics) {
  // Nothing consumed: the lag of the whole topic is everything produced.
  const auto metrics = scrapeExporter("consumer");
  EXPECT_NE(metrics.find("ebb_group_lag_messages{group=\"" + group_ + "\"} 6000"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ebb_group_partition_lag_seconds{"), std::string::npos);
}

// A share group (KIP-932) has no committed offsets: ebb reads its share-partition start offsets
// and the broker's lag through the share-admin helper, and they are what Kafka's own
// ShareGroupCommand (kafka-share-groups.sh --describe --offsets) prints.
TEST_F(LagTest, ShareGroupStartOffsetsAndLagMatchShareGroupCommand) {
  std::string output;
  ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t",
                        topic_, "-g", group_, "--group-type", "share", "-n", "2500"},
                       120s, &output),
            0)
      << output;
  const auto java = javaTable("org.apache.kafka.tools.consumer.group.ShareGroupCommand",
                              {"--describe", "--offsets", "--group", group_}, topic_);
  const auto ebb = lagJson(group_, topic_, "0.2", "share");
  ASSERT_FALSE(java.empty());
  ASSERT_EQ(ebb["partitions"].size(), 6u) << ebb.dump(2);
  EXPECT_EQ(ebb["type"].get<std::string>(), "Share");
  size_t started = 0;  // share partitions with a start offset: compared figure for figure
  for (const auto& row : ebb["partitions"]) {
    const auto it = java.find(row["partition"].get<int32_t>());
    ASSERT_NE(it, java.end()) << row.dump();
    auto cells = it->second;
    EXPECT_EQ(row["committed_offset"].get<int64_t>(), offsetOrMinusOne(cells["START-OFFSET"]))
        << row.dump();
    if (cells["START-OFFSET"] == "-") {
      // A share partition no member fetched yet: Java prints "-"; ebb counts it from the log
      // start, as for a consumer group without a commit (ebb consume starts share groups at
      // the earliest record).
      EXPECT_EQ(row["lag"].get<int64_t>(),
                row["log_end_offset"].get<int64_t>() - row["log_start_offset"].get<int64_t>())
          << row.dump();
    } else {
      ++started;
      EXPECT_EQ(row["lag"].get<int64_t>(), std::stoll(cells["LAG"])) << row.dump();
    }
  }
  EXPECT_GT(started, 0u);
  // The member accepted 2,500 records and released what it held when it stopped.
  EXPECT_EQ(ebb["lag"].get<int64_t>(), 6000 - 2500) << ebb.dump(2);

  const auto metrics = scrapeExporter("share");
  EXPECT_NE(metrics.find("ebb_group_lag_messages{group=\"" + group_ + "\"} 3500"),
            std::string::npos)
      << metrics;

  // A share group nobody created is named as such.
  EXPECT_NE(runCommand({kEbb, "lag", "-b", bootstrapServers(), "-g", group_ + "-none",
                        "--group-type", "share"},
                       60s, &output),
            0);
  EXPECT_NE(output.find("does not exist"), std::string::npos) << output;
}

}  // namespace
}  // namespace ebb::test
