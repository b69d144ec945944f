#include "ebb/scale/policy_factory.h"

#include <stdexcept>

#include "ebb/scale/cycle_policy.h"
#include "ebb/scale/keda_policy.h"
#include "ebb/scale/slo_policy.h"
#include "ebb/scale/static_policy.h"

namespace ebb::scale {

std::vector<std::string> policyNames() { return {"keda", "slo", "static", "cycle"}; }

std::unique_ptr<Policy> makePolicy(std::string_view name,
                                   const std::map<std::string, std::string>& settings) {
  if (name == "keda") return std::make_unique<KedaPolicy>(KedaKafkaConfig::fromSettings(settings));
  if (name == "slo") return std::make_unique<SloPolicy>(SloConfig::fromSettings(settings));
  if (name == "static") {
    return std::make_unique<StaticPolicy>(StaticConfig::fromSettings(settings));
  }
  if (name == "cycle") return std::make_unique<CyclePolicy>(CycleConfig::fromSettings(settings));
  throw std::invalid_argument("unknown policy '" + std::string(name) +
                              "' (use keda, slo, static or cycle)");
}

std::map<std::string, std::string> parseSettings(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> settings;
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("expected KEY=VALUE, got '" + pair + "'");
    }
    settings[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return settings;
}

}  // namespace ebb::scale
