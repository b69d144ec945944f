#include "handle.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ebb::kafka::detail {
namespace {

// librdkafka logs with syslog levels from its own threads; spdlog's default logger is thread-safe.
void logCallback(const rd_kafka_t* handle, int level, const char* facility, const char* message) {
  constexpr std::array<spdlog::level::level_enum, 8> kLevels{
      spdlog::level::critical, spdlog::level::critical, spdlog::level::critical,
      spdlog::level::err,      spdlog::level::warn,     spdlog::level::info,
      spdlog::level::info,     spdlog::level::debug};
  const auto mapped = kLevels[static_cast<size_t>(level < 0 ? 0 : level > 7 ? 7 : level)];
  spdlog::log(mapped, "rdkafka {} {}: {}", rd_kafka_name(handle), facility, message);
}

// The last authentication or TLS failure of each client (by its unique name): a wrong password or
// an untrusted certificate will not heal by retrying, so calls that wait for the cluster end at
// once.
std::mutex g_failuresMutex;
std::map<std::string, std::string, std::less<>> g_connectFailures;

bool isCredentialFailure(std::string_view reason) {
  return reason.find("SASL authentication error") != std::string_view::npos ||
         reason.find("SSL handshake failed") != std::string_view::npos;
}

// Client-level errors (brokers down, authentication): logged; fatal ones loudly. Never throws.
void errorCallback(rd_kafka_t* handle, int code, const char* reason, void* /*opaque*/) {
  if (reason != nullptr && isCredentialFailure(reason)) {
    try {
      const std::lock_guard lock(g_failuresMutex);
      g_connectFailures[rd_kafka_name(handle)] = reason;
    } catch (...) {  // remembering it must not take the process down
    }
  }
  const auto err = static_cast<rd_kafka_resp_err_t>(code);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> detail{};
    const auto original = rd_kafka_fatal_error(handle, detail.data(), detail.size());
    spdlog::critical("kafka fatal error {}: {}", rd_kafka_err2name(original), detail.data());
    return;
  }
  spdlog::warn("kafka {}: {}", rd_kafka_err2name(err), reason);
}

// librdkafka's property table, "name | C/P | range | default | importance | description" per row.
std::map<std::string, char, std::less<>> readPropertyScopes() {
  std::map<std::string, char, std::less<>> scopes;
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  if (out == nullptr) return scopes;
  rd_kafka_conf_properties_show(out);
  std::fclose(out);
  const std::string table(text, size);
  std::free(text);
  constexpr std::string_view kBlank = " \t";
  auto trim = [&](std::string_view field) {
    const auto first = field.find_first_not_of(kBlank);
    if (first == std::string_view::npos) return std::string_view();
    return field.substr(first, field.find_last_not_of(kBlank) - first + 1);
  };
  std::string_view rest(table);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const auto first = line.find('|');
    const auto second = first == std::string_view::npos ? first : line.find('|', first + 1);
    if (second == std::string_view::npos) continue;
    const auto name = trim(line.substr(0, first));
    const auto scope = trim(line.substr(first + 1, second - first - 1));
    if (name.empty() || name == "Property" || (scope != "C" && scope != "P" && scope != "*")) {
      continue;
    }
    scopes.emplace(std::string(name), scope.front());
  }
  return scopes;
}

}  // namespace

char propertyScope(std::string_view key) {
  static const auto scopes = readPropertyScopes();
  const auto it = scopes.find(key);
  return it == scopes.end() ? '?' : it->second;
}

ConfPtr makeConf(const ClientConfig& config, const std::map<std::string, std::string>& defaults,
                 std::optional<rd_kafka_type_t> onlyFor) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> reason{};
  auto apply = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), reason.data(), reason.size()) !=
        RD_KAFKA_CONF_OK) {
      // librdkafka's reason may quote the value: not for a secret.
      throw KafkaError("invalid Kafka client property '" + key + "'" +
                       (isSecretProperty(key) ? std::string(" (value not shown: a secret)")
                                              : ": " + std::string(reason.data())));
    }
  };
  for (const auto& [key, value] : defaults) {
    if (!config.properties.contains(key)) apply(key, value);
  }
  const char otherSide = !onlyFor ? '\0' : *onlyFor == RD_KAFKA_PRODUCER ? 'C' : 'P';
  for (const auto& [key, value] : config.effective()) {
    if (otherSide != '\0' && propertyScope(key) == otherSide) {
      spdlog::debug("kafka client {}: {} left out (a {} property)", config.clientId, key,
                    otherSide == 'P' ? "producer" : "consumer");
      continue;
    }
    apply(key, value);
  }
  spdlog::debug("kafka client {}: {}", config.clientId, fmt::join(config.printable(), " "));
  rd_kafka_conf_set_log_cb(conf.get(), logCallback);
  rd_kafka_conf_set_error_cb(conf.get(), errorCallback);
  return conf;
}

rd_kafka_t* createHandle(rd_kafka_type_t type, ConfPtr conf) {
  std::array<char, 512> reason{};
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), reason.data(), reason.size());
  if (handle == nullptr) {
    throw KafkaError(std::string("cannot create Kafka client: ") + reason.data());
  }
  conf.release();  // rd_kafka_new took ownership
  return handle;
}

std::optional<std::string> credentialFailure(const rd_kafka_t* handle) {
  const std::lock_guard lock(g_failuresMutex);
  const auto it = g_connectFailures.find(std::string_view(rd_kafka_name(handle)));
  if (it == g_connectFailures.end()) return std::nullopt;
  return it->second;
}

TopicPartitionListPtr subscriptionList(const std::vector<std::string>& topics) {
  TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return list;
}

Error toError(rd_kafka_resp_err_t code) {
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return Error(code, rd_kafka_err2str(code));
}

Error toError(const rd_kafka_error_t* error) {
  if (error == nullptr) return {};
  return Error(rd_kafka_error_code(error), rd_kafka_error_string(error),
               rd_kafka_error_is_fatal(error) != 0, rd_kafka_error_is_retriable(error) != 0);
}

Error takeError(rd_kafka_error_t* error) {
  const ErrorPtr owned(error);
  return toError(owned.get());
}

}  // namespace ebb::kafka::detail

namespace ebb::kafka {
std::string libraryVersion() { return rd_kafka_version_str(); }
}  // namespace ebb::kafka
