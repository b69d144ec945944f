// The policies by name, built from the CLI's KEY=VALUE settings (an explicit factory: no hidden
// registration).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/policy.h"

namespace ebb::scale {

// keda, slo, static.
std::vector<std::string> policyNames();
// Throws std::invalid_argument for an unknown name, key or value, saying what is accepted.
std::unique_ptr<Policy> makePolicy(std::string_view name,
                                   const std::map<std::string, std::string>& settings);

}  // namespace ebb::scale
