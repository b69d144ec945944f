#include "ebb/scale/static_policy.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

#include "ebb/scale/policy_text.h"

namespace ebb::scale {

void StaticConfig::validate() const {
  if (replicas < 0) {
    throw std::invalid_argument(fmt::format("static replicas {} must be >= 0", replicas));
  }
  if (interval <= Millis{0}) {
    throw std::invalid_argument("static interval must be > 0 (default 15s)");
  }
}

const std::vector<std::string_view>& StaticConfig::settingKeys() {
  static const std::vector<std::string_view> keys = {"replicas", "interval"};
  return keys;
}

StaticConfig StaticConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  PolicySettings reader("static", settings);
  StaticConfig config;
  if (const auto v = reader.integer("replicas", 0, std::numeric_limits<int32_t>::max())) {
    config.replicas = static_cast<int32_t>(*v);
  }
  if (const auto v = reader.duration("interval")) config.interval = *v;
  reader.rejectUnknown(settingKeys());
  config.validate();
  return config;
}

StaticPolicy::StaticPolicy(StaticConfig config) : config_(config) { config_.validate(); }

Decision StaticPolicy::decide(const Observation& observation) {
  const int32_t current = observation.currentReplicas;
  if (current == config_.replicas) {
    return {config_.replicas, fmt::format("static: fixed at {} replicas", config_.replicas)};
  }
  return {config_.replicas, fmt::format("static: fixed at {} replicas ({} running → {})",
                                        config_.replicas, current, config_.replicas)};
}

}  // namespace ebb::scale
