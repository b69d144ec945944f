// `ebb consume`: the consumer microservice.
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>
#include <thread>

#include "client_options.h"
#include "commands.h"
#include "ebb/metrics/http_server.h"
#include "ebb/service/consumer_service.h"
#include "output.h"
#include "signals.h"

namespace ebb::app {
namespace {

struct ConsumeFlags {
  ServiceOptions service;
  service::ConsumerOptions options;
  std::string protocol = "consumer";
  std::string groupType = "consumer";
  double graceSeconds = 10;
  double startupSeconds = 30;
  double commitSeconds = 1;
};

nlohmann::json toJson(const service::ConsumerOptions& options,
                      const service::ConsumerSummary& summary) {
  nlohmann::json rebalances = nlohmann::json::array();
  double paused = 0;
  for (const auto& event : summary.rebalances) {
    rebalances.push_back({{"kind", event.kind},
                          {"partitions", event.partitions},
                          {"paused_s", event.pausedSeconds}});
    paused += event.pausedSeconds;
  }
  nlohmann::json byPartition = nlohmann::json::object();
  for (const auto& [partition, histogram] : summary.endToEndByPartition) {
    byPartition[std::to_string(partition)] = latencyJson(histogram);
  }
  nlohmann::json json = {
      {"group", options.group},
      {"group_type", kafka::toString(options.groupType)},
      {"topics", options.topics},
      {"consumed", summary.consumed},
      {"busy_seconds", summary.busySeconds},
      {"rate_msgs_per_s",
       summary.busySeconds > 0 ? static_cast<double>(summary.consumed) / summary.busySeconds : 0},
      {"malformed", summary.malformed},
      {"drained_in_time", summary.drainedInTime},
      {"rebalances", rebalances},
      {"rebalance_paused_seconds", paused},
      {"end_to_end_latency", latencyJson(summary.endToEnd)},
      {"producer_to_broker_latency", latencyJson(summary.producerToBroker)},
      {"broker_to_consumer_latency", latencyJson(summary.brokerToConsumer)},
      {"end_to_end_latency_by_partition", byPartition},
      // Processed, measured in end_to_end_latency, but past the per-partition histograms' bound.
      {"partitions_without_histogram", summary.untrackedPartitions}};
  if (options.groupType == kafka::GroupType::kShare) {
    json["acknowledgements"] = {{"accepted", summary.accepted},
                                {"released", summary.released},
                                {"rejected", summary.rejected}};
    json["redelivered"] = summary.redelivered;
  }
  return json;
}

void printText(const nlohmann::json& summary) {
  std::cout << fmt::format(
      "consumed {} message(s) in group {} ({} malformed), {} rebalance event(s) pausing {:.3f} s\n",
      summary["consumed"].get<uint64_t>(), summary["group"].get<std::string>(),
      summary["malformed"].get<uint64_t>(), summary["rebalances"].size(),
      summary["rebalance_paused_seconds"].get<double>());
  if (summary.contains("acknowledgements")) {
    const auto& acks = summary["acknowledgements"];
    std::cout << fmt::format(
        "share group: accepted {}, released {}, rejected {}; {} delivered more than once\n",
        acks["accepted"].get<uint64_t>(), acks["released"].get<uint64_t>(),
        acks["rejected"].get<uint64_t>(), summary["redelivered"].get<uint64_t>());
  }
  std::cout << latencyLine("end-to-end", summary["end_to_end_latency"]);
  if (summary["producer_to_broker_latency"]["count"].get<uint64_t>() > 0) {
    std::cout << latencyLine("producer->broker", summary["producer_to_broker_latency"]);
    std::cout << latencyLine("broker->consumer", summary["broker_to_consumer_latency"]);
  }
  for (const auto& [partition, latency] : summary["end_to_end_latency_by_partition"].items()) {
    std::cout << "  " << latencyLine("partition " + partition, latency);
  }
}

}  // namespace

void addConsumeCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<ConsumeFlags>();
  auto& options = flags->options;
  auto* command = app.add_subcommand("consume", "Consume in a group with simulated work");
  flags->service.addTo(*command);
  command->add_option("-t,--topic", options.topics, "Topic(s) to subscribe to")->required();
  command->add_option("-g,--group", options.group, "Group id")->required();
  addGroupTypeOption(*command, flags->groupType);
  command
      ->add_option("--group-protocol", flags->protocol,
                   "consumer (KIP-848, broker-side incremental assignment) or classic")
      ->check(CLI::IsMember({"consumer", "classic"}));
  command
      ->add_option("--assignor", options.assignor,
                   "classic only: cooperative-sticky, range, roundrobin")
      ->check(CLI::IsMember({"cooperative-sticky", "range", "roundrobin"}));
  command->add_option("--instance-id", options.instanceId,
                      "Static membership id (group.instance.id)");
  command->add_option("--work", options.work,
                      "Simulated work per message: none, sleep:1ms, cpu:200us[:exp|:uniform]");
  command
      ->add_option("--workers", options.workers,
                   "Partitions processed concurrently (per-partition order kept)")
      ->check(CLI::Range(1u, 256u));
  command->add_option("--audit", options.auditPath,
                      "Append one line per processed message: partition offset key producer seq");
  command->add_option("--stats", options.statsPath,
                      "Append a JSON line every second: messages and latency p50/p99/max");
  command->add_option("--offsets", options.offsets,
                      "Where offsets live: kafka (committed to the group) or file:PATH");
  command->add_option("--commit-interval", flags->commitSeconds, "Seconds between commits")
      ->check(CLI::Range(0.01, 3600.0));
  command
      ->add_option("--grace-period", flags->graceSeconds,
                   "Seconds to finish in-flight work after SIGTERM/SIGINT")
      ->check(CLI::Range(0.0, 3600.0));
  command->add_option("-n,--count", options.maxMessages, "Stop after this many messages (0: never)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--seed", options.seed, "Seed for the work distribution");
  command
      ->add_option("--max-deliveries", options.maxDeliveries,
                   "Share groups: reject a record delivered more often than this, unprocessed "
                   "(0: only the broker's group.share.delivery.count.limit)")
      ->check(CLI::Range(0, 1000));
  command
      ->add_option("--startup-timeout", flags->startupSeconds,
                   "Seconds to reach the cluster and find the topics at start")
      ->check(CLI::Range(0.1, 3600.0));
  command->add_flag("--standby", options.standby,
                    "Warm standby: connect and fetch metadata now, join the group on SIGUSR1 "
                    "(ebb scale --warm keeps such replicas ready)");
  addEnvironmentNames(*command);

  command->callback([flags, &runner] {
    runner = [flags] {
      auto settings = flags->options;
      settings.protocol = kafka::parseGroupProtocol(flags->protocol);
      settings.groupType = kafka::parseGroupType(flags->groupType);
      settings.gracePeriod =
          std::chrono::milliseconds(static_cast<int64_t>(flags->graceSeconds * 1e3));
      settings.startupTimeout =
          std::chrono::milliseconds(static_cast<int64_t>(flags->startupSeconds * 1e3));
      settings.commitInterval =
          std::chrono::milliseconds(static_cast<int64_t>(flags->commitSeconds * 1e3));
      const auto config = flags->service.client.toConfig("ebb-consumer");
      auto registry = std::make_shared<prometheus::Registry>();
      const auto http = flags->service.serveHttp(registry);
      const auto& stop = installStopSignals();
      const std::atomic<bool>* activate = settings.standby ? &installActivateSignal() : nullptr;
      service::ConsumerService consumer(config, settings, registry);
      std::jthread readiness([&](const std::stop_token& token) {
        while (http && !token.stop_requested()) {
          http->setReady(consumer.joined() && !stop.load());
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      });
      const auto summary = consumer.run(stop, activate);
      readiness.request_stop();
      const auto json = toJson(settings, summary);
      printSummary(flags->service.output, json, printText);
      return summary.drainedInTime ? 0 : 3;
    };
  });
}

}  // namespace ebb::app
