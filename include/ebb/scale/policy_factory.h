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
// "KEY=VALUE" pairs (split at the first '='; a later pair wins) as makePolicy takes them; throws
// std::invalid_argument "expected KEY=VALUE, got '...'" for a pair without a key or '='.
std::map<std::string, std::string> parseSettings(const std::vector<std::string>& pairs);

}  // namespace ebb::scale
