// Client configuration: typed options for what ebb itself decides, plus the raw librdkafka
// properties passed with -X key=value (the kcat convention), which win over the typed ones.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ebb::kafka {

struct ClientConfig {
  std::string bootstrapServers;
  std::string clientId = "ebb";
  // How long a client may try to reach the cluster before calls give up.
  std::chrono::milliseconds socketTimeout{10'000};
  // Raw librdkafka properties (CONFIGURATION.md), applied last.
  std::map<std::string, std::string> properties;

  // Parses "key=value" into properties; throws std::invalid_argument with a hint when malformed.
  void set(std::string_view keyValue);
  // Reads a properties file (kcat's -F, Kafka's --command-config): one key=value per line, blank
  // lines and lines starting with # or ! ignored. Throws std::invalid_argument naming FILE:LINE,
  // never the line itself (it may hold a secret).
  void setFromFile(const std::filesystem::path& path);
  // Every property as librdkafka receives it (typed options first, then the raw ones).
  std::map<std::string, std::string> effective() const;
  // The same, one "key=value" per entry, with secrets replaced by "********".
  std::vector<std::string> printable() const;
};

// True for properties that hold secrets (sasl.password, ssl.key.password, ...): never print them.
bool isSecretProperty(std::string_view key);

// The librdkafka version linked at run time, e.g. "2.15.1".
std::string libraryVersion();

}  // namespace ebb::kafka
