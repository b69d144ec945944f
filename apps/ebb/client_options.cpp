#include "client_options.h"

#include <cctype>
#include <stdexcept>

#include "ebb/kafka/producer.h"
#include "ebb/service/producer_service.h"

namespace ebb::app {

void ClientOptions::addTo(CLI::App& command) {
  command
      .add_option("-b,--bootstrap-server", bootstrapServers,
                  "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...]")
      ->envname("EBB_BOOTSTRAP_SERVERS")
      ->required();
  command
      .add_option("-X,--property", properties,
                  "librdkafka property KEY=VALUE (repeatable; see librdkafka CONFIGURATION.md)")
      ->envname("EBB_PROPERTIES")
      ->delimiter(';');
  command
      .add_option("-F,--properties-file", propertiesFile,
                  "Read librdkafka properties from FILE, one KEY=VALUE per line (-X wins): the "
                  "place for credentials, which argv would show to every user of the machine")
      ->envname("EBB_PROPERTIES_FILE");
}

kafka::ClientConfig ClientOptions::toConfig(const std::string& clientId) const {
  kafka::ClientConfig config;
  config.bootstrapServers = bootstrapServers;
  config.clientId = clientId;
  if (!propertiesFile.empty()) {
    try {
      config.setFromFile(propertiesFile);
    } catch (const std::invalid_argument& error) {
      throw CLI::ValidationError("-F", error.what());
    }
  }
  for (const auto& property : properties) {
    try {
      config.set(property);
    } catch (const std::invalid_argument& error) {
      throw CLI::ValidationError("-X", error.what());
    }
  }
  return config;
}

void ServiceOptions::addTo(CLI::App& command) {
  client.addTo(command);
  command.add_option("--http", http, "Serve /metrics, /healthz, /readyz on HOST:PORT");
  command.add_option("-o,--output", output, "Summary as text or json")
      ->check(CLI::IsMember({"text", "json"}));
}

std::unique_ptr<metrics::HttpServer> ServiceOptions::serveHttp(
    std::shared_ptr<prometheus::Registry> registry) const {
  if (http.empty()) return nullptr;
  return std::make_unique<metrics::HttpServer>(metrics::parseEndpoint(http), std::move(registry));
}

void applyTune(kafka::ClientConfig& config, const std::string& preset) {
  if (preset.empty()) return;
  for (const auto& [key, value] : service::tunePreset(preset)) {
    config.properties.try_emplace(key, value);
  }
}

void addConnectionsOption(CLI::App& command, int& connections) {
  command
      .add_option("--connections", connections,
                  "Producer clients the partitions are split over (partition mod N), each with its "
                  "own broker connections and one-request window: librdkafka sends one partition "
                  "per request, so on one connection the partitions take turns")
      ->check(CLI::Range(1, kafka::kMaxProducerConnections));
}

void addGroupTypeOption(CLI::App& command, std::string& groupType) {
  command
      .add_option("--group-type", groupType,
                  "consumer: a consumer group (one owner per partition, order per partition "
                  "kept); share: a share group (KIP-932: members share the partitions and "
                  "acknowledge each record; no partition cap, no handoff, no order per key)")
      ->check(CLI::IsMember({"consumer", "share"}));
}

void addEnvironmentNames(CLI::App& command) {
  for (CLI::Option* option : command.get_options()) {
    if (!option->get_envname().empty() || option->get_lnames().empty() ||
        option->get_lnames().front() == "help") {
      continue;
    }
    std::string name = "EBB_";
    for (const char c : option->get_lnames().front()) {
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    option->envname(name);
  }
}

}  // namespace ebb::app
