// cycle: steps through a fixed list of replica counts, one every period, over and over. Not a
// scaling policy for production: it makes scale events on a schedule, so that their cost can be
// measured (bench/handoff_bench.sh) and the loop exercised (tests scale out and in many times).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/policy.h"

namespace ebb::scale {

struct CycleConfig {
  std::vector<int32_t> counts{1};  // each >= 0
  Millis period{15'000};           // how long each count holds
  Millis interval{1000};           // how often the loop asks

  void validate() const;
  // Keys: counts=4,8 period=15s interval=1s. Unknown keys and bad values throw
  // std::invalid_argument naming the key and what it accepts. The result is validated.
  static CycleConfig fromSettings(const std::map<std::string, std::string>& settings);
  static const std::vector<std::string_view>& settingKeys();
};

class CyclePolicy final : public Policy {
 public:
  explicit CyclePolicy(CycleConfig config);  // validates
  std::string_view name() const override { return "cycle"; }
  Millis interval() const override { return config_.interval; }
  // counts[k mod n] for the k-th period since the first observation.
  Decision decide(const Observation& observation) override;

 private:
  CycleConfig config_;
  std::optional<Millis> startedAt_;
};

}  // namespace ebb::scale
