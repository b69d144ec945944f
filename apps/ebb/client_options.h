// Flags every subcommand that talks to Kafka shares: -b, -X, -F, and logging (each also from
// EBB_*).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/metrics/http_server.h"

namespace ebb::app {

struct ClientOptions {
  std::string bootstrapServers;
  std::vector<std::string> properties;
  std::string propertiesFile;

  void addTo(CLI::App& command);
  // Reads -F's file, then the -X pairs over it (kcat's order); throws CLI::ValidationError with
  // what to fix (for the file: its line number, never its content).
  kafka::ClientConfig toConfig(const std::string& clientId) const;
};

// Adds the --tune preset's properties to `config` where -X/-F did not set them (they win).
void applyTune(kafka::ClientConfig& config, const std::string& preset);
// --connections: producer clients the partitions are split over (kafka::Producer).
void addConnectionsOption(CLI::App& command, int& connections);

// Flags of the long-running services (produce, consume): the client's, --http and --output.
struct ServiceOptions {
  ClientOptions client;
  std::string http;
  std::string output = "text";
  void addTo(CLI::App& command);
  // The metrics/health server when --http was given, else null; throws if it cannot listen.
  std::unique_ptr<metrics::HttpServer> serveHttp(
      std::shared_ptr<prometheus::Registry> registry) const;
};

// Gives every option of `command` that has none yet an environment variable: EBB_ + its long
// name in upper case with '-' as '_' (--group-protocol: EBB_GROUP_PROTOCOL), for containers.
void addEnvironmentNames(CLI::App& command);

// --group-type consumer|share, for the commands that read or scale a group.
void addGroupTypeOption(CLI::App& command, std::string& groupType);

}  // namespace ebb::app
