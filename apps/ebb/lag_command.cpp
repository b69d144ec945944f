// `ebb lag`: a consumer group's lag per partition (offsets, messages, seconds, rates, owner), once,
// continuously (--watch), or as a Prometheus lag exporter (--http).
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "client_options.h"
#include "commands.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/share_admin.h"
#include "ebb/lag/group_lag.h"
#include "ebb/metrics/group_lag_metrics.h"
#include "output.h"
#include "signals.h"

namespace ebb::app {
namespace {

struct LagFlags {
  ServiceOptions service;
  std::string group;
  std::vector<std::string> topics;
  std::string groupType = "consumer";
  bool watch = false;
  double intervalSeconds = 1;
  int timeoutSeconds = 10;
};

nlohmann::json toJson(const lag::GroupLag& lag) {
  auto partitions = nlohmann::json::array();
  for (const auto& row : lag.partitions) {
    partitions.push_back({{"topic", row.topic},
                          {"partition", row.partition},
                          {"log_start_offset", row.logStart},
                          {"log_end_offset", row.logEnd},
                          {"committed_offset", row.committed},
                          {"lag", row.lag},
                          {"lag_seconds", row.lagSeconds},
                          {"produce_rate", row.produceRate},
                          {"consume_rate", row.consumeRate},
                          {"owner", row.owner},
                          {"owner_host", row.ownerHost},
                          {"member_id", row.memberId}});
  }
  auto topics = nlohmann::json::array();
  for (const auto& topic : lag.topics) {
    topics.push_back({{"topic", topic.topic},
                      {"partitions", topic.partitions},
                      {"lag", topic.lag},
                      {"max_lag_seconds", topic.maxLagSeconds},
                      {"produce_rate", topic.produceRate},
                      {"consume_rate", topic.consumeRate}});
  }
  return {{"group", lag.group}, {"state", lag.state},
          {"type", lag.type},   {"members", lag.members},
          {"lag", lag.lag},     {"max_lag_seconds", lag.maxLagSeconds},
          {"topics", topics},   {"partitions", partitions}};
}

std::string offsetText(int64_t offset) { return offset >= 0 ? std::to_string(offset) : "-"; }

void printText(const nlohmann::json& lag) {
  std::cout << fmt::format("group {}  state {}  type {}  members {}\n\n",
                           lag["group"].get<std::string>(), lag["state"].get<std::string>(),
                           lag["type"].get<std::string>(), lag["members"].get<size_t>());
  std::vector<Row> rows;
  for (const auto& row : lag["partitions"]) {
    const auto owner = row["owner"].get<std::string>();
    rows.push_back({row["topic"].get<std::string>(), std::to_string(row["partition"].get<int>()),
                    offsetText(row["log_end_offset"].get<int64_t>()),
                    offsetText(row["committed_offset"].get<int64_t>()),
                    std::to_string(row["lag"].get<int64_t>()),
                    fmt::format("{:.1f}", row["lag_seconds"].get<double>()),
                    fmt::format("{:.0f}", row["produce_rate"].get<double>()),
                    fmt::format("{:.0f}", row["consume_rate"].get<double>()),
                    owner.empty() ? "-" : owner + "@" + row["owner_host"].get<std::string>()});
  }
  // A share group has no committed offset: where each share partition starts (what
  // kafka-share-groups.sh --describe --offsets calls START-OFFSET) stands in its place.
  const bool share = lag["type"].get<std::string>() == "Share";
  printTable({"TOPIC", "PARTITION", "LOG-END", share ? "START-OFFSET" : "COMMITTED", "LAG", "LAG-S",
              "IN/S", "OUT/S", share ? "A-MEMBER" : "OWNER"},
             rows);
  for (const auto& topic : lag["topics"]) {
    std::cout << fmt::format(
        "\n{}: lag {} message(s), oldest waiting {:.1f} s, in {:.0f}/s, out {:.0f}/s",
        topic["topic"].get<std::string>(), topic["lag"].get<int64_t>(),
        topic["max_lag_seconds"].get<double>(), topic["produce_rate"].get<double>(),
        topic["consume_rate"].get<double>());
  }
  std::cout << "\n";
}

double epochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::chrono::milliseconds monotonicNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

// Sleeps in small steps so a stop signal ends the wait at once; false when stopped.
bool sleepUnlessStopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !stop.load();
}

void show(const LagFlags& flags, const lag::GroupLag& lag, bool clearScreen) {
  const auto json = toJson(lag);
  if (flags.service.output == "json" && flags.watch) {
    std::cout << json.dump() << std::endl;  // JSON lines, one reading each
    return;
  }
  if (clearScreen) std::cout << "\033[H\033[2J";
  printSummary(flags.service.output, json, printText);
  std::cout << std::flush;
}

int runLag(const LagFlags& flags) {
  const std::chrono::seconds timeout(flags.timeoutSeconds);
  const auto interval =
      std::chrono::milliseconds(static_cast<int64_t>(flags.intervalSeconds * 1000));
  auto config = flags.service.client.toConfig("ebb-lag");
  config.socketTimeout = timeout;
  auto registry = std::make_shared<prometheus::Registry>();
  auto http = flags.service.serveHttp(registry);
  kafka::AdminClient admin(config, timeout);
  std::optional<kafka::ShareGroupAdmin> share;
  if (flags.groupType == "share") share.emplace(config);
  lag::GroupLagMonitor monitor(admin, flags.group, flags.topics, std::chrono::seconds(60),
                               share ? &*share : nullptr);
  const auto& stop = installStopSignals();
  admin.setStopFlag(&stop);  // a reading waiting on a cluster that is away ends at SIGTERM

  if (!flags.watch && !http) {
    // An unreachable cluster or unknown topic is named as such, not as a group error; only the
    // named topic is asked for (a cluster's every topic can be a large answer).
    admin.metadata(flags.topics.empty() ? std::string() : flags.topics.front());
    // Two readings one interval apart, so rates and lag in seconds mean something.
    monitor.read(monotonicNow());
    if (!sleepUnlessStopped(interval, stop)) return 0;
    show(flags, monitor.read(monotonicNow()), false);
    return 0;
  }
  const bool clearScreen = flags.watch && flags.service.output == "text" && isatty(STDOUT_FILENO);
  metrics::LagExporter exporter(*registry, flags.group);
  do {
    try {
      const auto lag = monitor.read(monotonicNow());
      exporter.published(lag, epochSeconds());
      if (http) http->setReady(true);
      if (flags.watch) show(flags, lag, clearScreen);
    } catch (const std::exception& error) {
      // An exporter outlives a broker restart: report, drop the stale series, mark not ready,
      // try again next interval.
      exporter.failed();
      if (http) http->setReady(false);
      spdlog::warn("lag reading failed: {}", error.what());
    }
  } while (sleepUnlessStopped(interval, stop));
  return 0;
}

}  // namespace

void addLagCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<LagFlags>();
  auto* command = app.add_subcommand(
      "lag",
      "A consumer or share group's lag per partition: offsets, messages, seconds, rates, owners");
  flags->service.addTo(*command);
  command->add_option("-g,--group", flags->group, "Group id")->required();
  addGroupTypeOption(*command, flags->groupType);
  command
      ->add_option("-t,--topic", flags->topics,
                   "Topics (repeatable; default: every topic the group commits or owns)")
      ->allow_extra_args(false);
  command->add_flag("-w,--watch", flags->watch, "Print a reading every interval until stopped");
  command->add_option("--interval", flags->intervalSeconds, "Seconds between readings")
      ->check(CLI::Range(0.1, 3'600.0));
  command->add_option("--timeout", flags->timeoutSeconds, "Seconds to wait for the cluster")
      ->check(CLI::Range(1, 3'600));
  addEnvironmentNames(*command);
  command->callback([flags, &runner] { runner = [flags] { return runLag(*flags); }; });
}

}  // namespace ebb::app
