// `ebb produce`: the producer microservice.
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <thread>

#include "client_options.h"
#include "commands.h"
#include "ebb/metrics/http_server.h"
#include "ebb/service/producer_service.h"
#include "output.h"
#include "signals.h"

namespace ebb::app {
namespace {

struct ProduceFlags {
  ServiceOptions service;
  service::ProducerOptions options;
  uint64_t count = 0;
  double duration = 0;
  std::string tune;
};

std::string defaultProducerId() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return fmt::format("{}-{}", host, ::getpid());
}

nlohmann::json toJson(const service::ProducerOptions& options,
                      const service::ProducerSummary& summary) {
  return {{"topic", options.topic},
          {"producer", options.producerId},
          {"partitioner", options.partitioner},
          {"keys", options.keys},
          {"profile", options.profile},
          {"sent", summary.sent},
          {"acknowledged", summary.acknowledged},
          {"failed", summary.failed},
          {"failures", summary.failuresByReason},
          {"queue_full_retries", summary.queueFullRetries},
          {"elapsed_seconds", summary.elapsedSeconds},
          {"rate_msgs_per_s", summary.achievedRate()},
          {"ack_latency", latencyJson(summary.ackLatency)}};
}

void printText(const nlohmann::json& summary) {
  std::cout << fmt::format(
      "produced to {} as {}: sent {}, acknowledged {}, failed {} in {:.2f} s ({:.0f} msg/s)\n",
      summary["topic"].get<std::string>(), summary["producer"].get<std::string>(),
      summary["sent"].get<uint64_t>(), summary["acknowledged"].get<uint64_t>(),
      summary["failed"].get<uint64_t>(), summary["elapsed_seconds"].get<double>(),
      summary["rate_msgs_per_s"].get<double>());
  for (const auto& [reason, count] : summary["failures"].items()) {
    std::cout << fmt::format("  failed: {} x {}\n", count.get<uint64_t>(), reason);
  }
  std::cout << latencyLine("send-to-ack", summary["ack_latency"]);
}

}  // namespace

void addProduceCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<ProduceFlags>();
  auto& options = flags->options;
  auto* command = app.add_subcommand("produce", "Produce paced load with the ebb envelope");
  flags->service.addTo(*command);
  command->add_option("-t,--topic", options.topic, "Topic to produce to (must exist)")->required();
  command
      ->add_option("--rate", options.rate,
                   "Messages per second, the base of --profile (0 with constant: unpaced)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--profile", options.profile,
                      "Load shape: constant, step:AT:RATE, spike:START:LENGTH:FACTOR, "
                      "ramp:FROM:TO:SECONDS, sine:PERIOD:AMPLITUDE, csv:PATH");
  command->add_option("-n,--count", flags->count, "Stop after this many messages (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("-d,--duration", flags->duration, "Stop after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("-s,--size", options.payloadBytes, "Payload bytes per message")
      ->check(CLI::Range(size_t{0}, size_t{1} << 24));
  command->add_option("--keys", options.keys,
                      "Keys: none, uniform:N, zipf:N:S (hot keys), sequential:N");
  command->add_option("--partitioner", options.partitioner,
                      "round-robin, random, sticky, murmur2 (Java's default), crc32, fnv1a, "
                      "lag-aware");
  command
      ->add_option("--sticky-batch", options.partitionerOptions.stickyBatchMessages,
                   "sticky: messages per partition before switching")
      ->check(CLI::Range(1u, 10'000'000u));
  command->add_option("--lag-group", options.lagGroup, "lag-aware: the consumer group to steer by");
  addConnectionsOption(*command, options.connections);
  command->add_option("--tune", flags->tune, "Preset: latency or throughput (-X wins over it)")
      ->check(CLI::IsMember({"latency", "throughput"}));
  command->add_option("--producer-id", options.producerId,
                      "Value of the ebb-producer header (default HOST-PID)");
  command->add_option("--seed", options.partitionerOptions.seed, "Seed for keys and partitioners");
  addEnvironmentNames(*command);

  command->callback([flags, &runner] {
    runner = [flags] {
      auto settings = flags->options;
      if (settings.producerId.empty()) settings.producerId = defaultProducerId();
      if (flags->count > 0) settings.count = flags->count;
      if (flags->duration > 0) settings.durationSeconds = flags->duration;
      auto config = flags->service.client.toConfig("ebb-producer-" + settings.producerId);
      applyTune(config, flags->tune);
      auto registry = std::make_shared<prometheus::Registry>();
      const auto http = flags->service.serveHttp(registry);
      const auto& stop = installStopSignals();
      service::ProducerService producer(config, settings, registry);
      if (http) http->setReady(true);
      spdlog::info("producing to {} as {}: {} partitioner, keys {}, profile {} at base {} msg/s",
                   settings.topic, settings.producerId, settings.partitioner, settings.keys,
                   settings.profile, settings.rate);
      const auto summary = producer.run(stop);
      const auto json = toJson(settings, summary);
      printSummary(flags->service.output, json, printText);
      return summary.failed == 0 ? 0 : 2;
    };
  });
}

}  // namespace ebb::app
