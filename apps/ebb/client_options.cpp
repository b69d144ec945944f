#include "client_options.h"

#include <stdexcept>

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
}

kafka::ClientConfig ClientOptions::toConfig(const std::string& clientId) const {
  kafka::ClientConfig config;
  config.bootstrapServers = bootstrapServers;
  config.clientId = clientId;
  for (const auto& property : properties) {
    try {
      config.set(property);
    } catch (const std::invalid_argument& error) {
      throw CLI::ValidationError("-X", error.what());
    }
  }
  return config;
}

}  // namespace ebb::app
