// `ebb roundtrip`: push N messages through a topic and report throughput and latency.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client_options.h"
#include "commands.h"
#include "ebb/kafka/consumer.h"
#include "ebb/roundtrip/roundtrip.h"
#include "output.h"

namespace ebb::app {
namespace {

struct RoundtripFlags {
  ClientOptions client;
  roundtrip::Options options;
  std::string protocol = "consumer";
  std::string tune;
  std::string output = "text";
  int timeoutSeconds = 120;
};

nlohmann::json toJson(const roundtrip::Options& options, const roundtrip::Result& result) {
  const double rate = result.produceSeconds > 0
                          ? static_cast<double>(result.acknowledged) / result.produceSeconds
                          : 0;
  return {{"topic", options.topic},
          {"messages",
           {{"sent", result.sent},
            {"acknowledged", result.acknowledged},
            {"failed", result.failed},
            {"consumed", result.consumed},
            {"duplicates", result.duplicates},
            {"lost", result.sent - result.consumed}}},
          {"payload_bytes", options.payloadBytes},
          {"producer_connections", options.connections},
          {"produce_seconds", result.produceSeconds},
          {"produce_rate_msgs_per_s", rate},
          {"produce_rate_mib_per_s", rate * static_cast<double>(options.payloadBytes) / (1 << 20)},
          {"end_to_end_seconds", result.totalSeconds},
          {"produce_requests", result.produceRequests},
          {"ack_latency", latencyJson(result.ackLatency)},
          {"end_to_end_latency", latencyJson(result.endToEndLatency)},
          {"producer_to_broker_latency", latencyJson(result.toBrokerLatency)},
          {"broker_to_consumer_latency", latencyJson(result.fromBrokerLatency)}};
}

void printText(const nlohmann::json& summary) {
  const auto& messages = summary["messages"];
  std::cout << fmt::format(
      "topic {}: sent {}, acknowledged {}, failed {}, consumed {}, lost {}, duplicates {}\n",
      summary["topic"].get<std::string>(), messages["sent"].get<uint64_t>(),
      messages["acknowledged"].get<uint64_t>(), messages["failed"].get<uint64_t>(),
      messages["consumed"].get<uint64_t>(), messages["lost"].get<uint64_t>(),
      messages["duplicates"].get<uint64_t>());
  std::cout << fmt::format("throughput: {:.0f} msg/s, {:.1f} MiB/s ({} B payload) over {:.2f} s\n",
                           summary["produce_rate_msgs_per_s"].get<double>(),
                           summary["produce_rate_mib_per_s"].get<double>(),
                           summary["payload_bytes"].get<size_t>(),
                           summary["produce_seconds"].get<double>());
  for (const auto* name : {"ack_latency", "end_to_end_latency"}) {
    std::cout << latencyLine(name, summary[name]);
  }
  // The halves exist on LogAppendTime topics only.
  for (const auto* name : {"producer_to_broker_latency", "broker_to_consumer_latency"}) {
    if (summary[name].value("count", 0) > 0) std::cout << latencyLine(name, summary[name]);
  }
}

}  // namespace

void addRoundtripCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<RoundtripFlags>();
  auto* command = app.add_subcommand(
      "roundtrip", "Produce N messages and consume them in a group: throughput and latency");
  flags->client.addTo(*command);
  auto& options = flags->options;
  options.topic =
      fmt::format("ebb-roundtrip-{}", std::chrono::system_clock::now().time_since_epoch().count());
  command->add_option("-t,--topic", options.topic, "Topic to use (default: a new one)");
  command->add_flag("!--existing-topic", options.createTopic,
                    "Use an existing topic instead of creating it");
  command->add_option("-p,--partitions", options.partitions, "Partitions of the new topic")
      ->check(CLI::Range(1, 10'000));
  command->add_option("-n,--count", options.messages, "Messages to send")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  command->add_option("-s,--size", options.payloadBytes, "Payload bytes per message")
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  command->add_option("--keys", options.keys, "Distinct keys (0: unkeyed)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--warmup", options.warmup,
                   "Untimed messages first, at the same rate and keys (a new topic's first "
                   "half second of writes is slow on the broker)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--rate", options.rate, "Messages per second (0: unlimited)")
      ->check(CLI::NonNegativeNumber);
  addConnectionsOption(*command, options.connections);
  command->add_option("--group-protocol", flags->protocol, "consumer (KIP-848) or classic")
      ->check(CLI::IsMember({"consumer", "classic"}));
  command->add_option("--timeout", flags->timeoutSeconds, "Seconds for the whole run")
      ->check(CLI::Range(1, 86'400));
  command->add_option("--tune", flags->tune, "Producer preset: latency or throughput (-X wins)")
      ->check(CLI::IsMember({"latency", "throughput"}));
  command->add_option("-o,--output", flags->output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  command->callback([flags, &runner] {
    runner = [flags] {
      auto run = flags->options;
      run.protocol = kafka::parseGroupProtocol(flags->protocol);
      run.timeout = std::chrono::seconds(flags->timeoutSeconds);
      auto config = flags->client.toConfig("ebb-roundtrip");
      applyTune(config, flags->tune);
      const auto result = roundtrip::run(config, run);
      const auto summary = toJson(run, result);
      if (flags->output == "json") {
        std::cout << summary.dump(2) << "\n";
      } else {
        printText(summary);
      }
      return result.complete() ? 0 : 2;
    };
  });
}

}  // namespace ebb::app
