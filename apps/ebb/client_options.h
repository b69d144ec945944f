// Flags every subcommand that talks to Kafka shares: -b, -X, and logging (each also from EBB_*).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"

namespace ebb::app {

struct ClientOptions {
  std::string bootstrapServers;
  std::vector<std::string> properties;

  void addTo(CLI::App& command);
  // Validates the -X pairs; throws CLI::ValidationError with the offending value.
  kafka::ClientConfig toConfig(const std::string& clientId) const;
};

}  // namespace ebb::app
