#include "ebb/scale/cycle_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <stdexcept>

#include "ebb/scale/policy_text.h"
#include "ebb/util/parse_number.h"

namespace ebb::scale {

const std::vector<std::string_view>& CycleConfig::settingKeys() {
  static const std::vector<std::string_view> keys{"counts", "period", "interval"};
  return keys;
}

void CycleConfig::validate() const {
  if (counts.empty()) throw std::invalid_argument("cycle: counts must name at least one count");
  for (const auto count : counts) {
    if (count < 0) throw std::invalid_argument("cycle: counts must be 0 or more");
  }
  if (period.count() <= 0) throw std::invalid_argument("cycle: period must be above 0");
  if (interval.count() <= 0) throw std::invalid_argument("cycle: interval must be above 0");
}

CycleConfig CycleConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  PolicySettings reader("cycle", settings);
  CycleConfig config;
  if (const auto text = reader.text("counts")) {
    config.counts.clear();
    size_t start = 0;
    while (start <= text->size()) {
      const size_t comma = std::min(text->find(',', start), text->size());
      const auto value = util::parseNumber(std::string_view(*text).substr(start, comma - start));
      // The range check comes first: casting a value past int32's range is undefined (found by
      // tests/fuzz/policy_settings_fuzz.cpp with counts=2.9e29).
      if (!value || *value < 0 || *value > 1e6 ||
          *value != static_cast<double>(static_cast<int32_t>(*value))) {
        reader.fail("counts", "a comma-separated list of replica counts (whole numbers >= 0)");
      }
      config.counts.push_back(static_cast<int32_t>(*value));
      start = comma + 1;
    }
  }
  if (const auto v = reader.duration("period")) config.period = *v;
  if (const auto v = reader.duration("interval")) config.interval = *v;
  reader.rejectUnknown(settingKeys());
  config.validate();
  return config;
}

CyclePolicy::CyclePolicy(CycleConfig config) : config_(std::move(config)) { config_.validate(); }

Decision CyclePolicy::decide(const Observation& observation) {
  if (!startedAt_) startedAt_ = observation.at;
  const auto step = static_cast<size_t>((observation.at - *startedAt_) / config_.period);
  const int32_t replicas = config_.counts[step % config_.counts.size()];
  return {replicas,
          fmt::format("cycle: {} replicas in period {} of [{}], {} each", replicas, step + 1,
                      fmt::join(config_.counts, ", "), formatDuration(config_.period))};
}

}  // namespace ebb::scale
