#include "ebb/kafka/client_config.h"

#include <array>
#include <stdexcept>
#include <string>

namespace ebb::kafka {

void ClientConfig::set(std::string_view keyValue) {
  const auto eq = keyValue.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw std::invalid_argument("expected a librdkafka property as key=value, got '" +
                                std::string(keyValue) + "' (for example -X linger.ms=5)");
  }
  properties[std::string(keyValue.substr(0, eq))] = std::string(keyValue.substr(eq + 1));
}

std::map<std::string, std::string> ClientConfig::effective() const {
  std::map<std::string, std::string> all{
      {"bootstrap.servers", bootstrapServers},
      {"client.id", clientId},
      {"socket.timeout.ms", std::to_string(socketTimeout.count())},
  };
  for (const auto& [key, value] : properties) all[key] = value;
  return all;
}

std::vector<std::string> ClientConfig::printable() const {
  std::vector<std::string> lines;
  for (const auto& [key, value] : effective()) {
    lines.push_back(key + "=" + (isSecretProperty(key) ? std::string("********") : value));
  }
  return lines;
}

bool isSecretProperty(std::string_view key) {
  // Substrings that mark a property holding a credential in librdkafka's CONFIGURATION.md.
  static constexpr std::array<std::string_view, 5> kMarkers{"password", "secret", "private.key",
                                                            "key.pem", "oauthbearer.config"};
  for (const auto marker : kMarkers) {
    if (key.find(marker) != std::string_view::npos) return true;
  }
  return key == "ssl_key";
}

}  // namespace ebb::kafka
