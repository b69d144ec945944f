#include "ebb/kafka/client_config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
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

void ClientConfig::setFromFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("cannot read the properties file " + path.string() + ": " +
                                std::strerror(errno));
  }
  constexpr std::string_view kBlank = " \t\r";
  size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto first = line.find_first_not_of(kBlank);
    if (first == std::string::npos || line[first] == '#' || line[first] == '!') continue;
    const auto last = line.find_last_not_of(kBlank);
    const std::string_view entry = std::string_view(line).substr(first, last - first + 1);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw std::invalid_argument(path.string() + ":" + std::to_string(number) +
                                  ": expected a librdkafka property as key=value (the line is not "
                                  "shown: it may hold a secret)");
    }
    // As in Java properties files, blanks around the '=' are not part of the key or the value.
    const auto key = entry.substr(0, entry.find_last_not_of(kBlank, eq - 1) + 1);
    auto value = entry.substr(eq + 1);
    value.remove_prefix(std::min(value.size(), value.find_first_not_of(kBlank)));
    properties[std::string(key)] = std::string(value);
  }
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
