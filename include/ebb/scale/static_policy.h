// The baseline: a fixed replica count, whatever the lag. Benchmarks compare the elastic policies
// against it (same load, same total capacity over the run).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/policy.h"

namespace ebb::scale {

struct StaticConfig {
  int32_t replicas = 1;     // >= 0
  Millis interval{15'000};  // how often the loop checks that the count still holds

  // Throws std::invalid_argument saying what to fix.
  void validate() const;
  // Keys: replicas=1 interval=15s. Unknown keys and bad values throw std::invalid_argument
  // naming the key and what it accepts. The result is validated.
  static StaticConfig fromSettings(const std::map<std::string, std::string>& settings);
  static const std::vector<std::string_view>& settingKeys();
};

class StaticPolicy final : public Policy {
 public:
  explicit StaticPolicy(StaticConfig config);  // validates

  std::string_view name() const override { return "static"; }
  Millis interval() const override { return config_.interval; }
  Decision decide(const Observation& observation) override;

 private:
  StaticConfig config_;
};

}  // namespace ebb::scale
