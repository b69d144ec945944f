#include "ebb/scale/policy_factory.h"

#include <stdexcept>

#include "ebb/scale/keda_policy.h"
#include "ebb/scale/slo_policy.h"
#include "ebb/scale/static_policy.h"

namespace ebb::scale {

std::vector<std::string> policyNames() { return {"keda", "slo", "static"}; }

std::unique_ptr<Policy> makePolicy(std::string_view name,
                                   const std::map<std::string, std::string>& settings) {
  if (name == "keda") return std::make_unique<KedaPolicy>(KedaKafkaConfig::fromSettings(settings));
  if (name == "slo") return std::make_unique<SloPolicy>(SloConfig::fromSettings(settings));
  if (name == "static") {
    return std::make_unique<StaticPolicy>(StaticConfig::fromSettings(settings));
  }
  throw std::invalid_argument("unknown policy '" + std::string(name) +
                              "' (use keda, slo or static)");
}

}  // namespace ebb::scale
