#include "ebb/scale/hpa.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <utility>

#include "ebb/scale/policy_text.h"

// Source of each step: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go
// (reconcileAutoscaler, normalizeDesiredReplicas*, stabilizeRecommendation*,
// calculateScale{Up,Down}Limit*, storeScaleEvent) and replica_calculator.go
// (GetExternalPerPodMetricReplicas, Tolerances.isWithin).

namespace ebb::scale {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
// API validation limits (pkg/apis/autoscaling/validation): stabilization up to one hour, policy
// periods up to 30 minutes.
constexpr Millis kMaxStabilizationWindow{3'600'000};
constexpr Millis kMaxPolicyPeriod{1'800'000};

int32_t toInt32(int64_t value) {
  return static_cast<int32_t>(std::clamp(value, kInt32Min, kInt32Max));
}

std::string_view selectName(HpaSelectPolicy select) {
  switch (select) {
    case HpaSelectPolicy::kMax:
      return "Max";
    case HpaSelectPolicy::kMin:
      return "Min";
    case HpaSelectPolicy::kDisabled:
      return "Disabled";
  }
  return "?";
}

std::string describePolicy(const HpaScalingPolicy& policy) {
  return fmt::format("{}:{}:{}", policy.type == HpaPolicyType::kPods ? "pods" : "percent",
                     policy.value, formatDuration(policy.period));
}

std::string describeRules(const HpaScalingRules& rules, std::string_view windowIfUnset) {
  std::vector<std::string> policies;
  for (const auto& policy : rules.policies) policies.push_back(describePolicy(policy));
  return fmt::format("window {}, {}({}){}",
                     rules.stabilizationWindow ? formatDuration(*rules.stabilizationWindow)
                                               : std::string(windowIfUnset),
                     selectName(rules.selectPolicy), fmt::join(policies, ","),
                     rules.tolerance ? fmt::format(", tolerance {}", *rules.tolerance) : "");
}

void validateRules(std::string_view direction, const HpaScalingRules& rules) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(fmt::format("hpa behavior.{}: {}", direction, what));
  };
  if (rules.stabilizationWindow && (*rules.stabilizationWindow < Millis{0} ||
                                    *rules.stabilizationWindow > kMaxStabilizationWindow)) {
    fail(fmt::format("stabilizationWindow {} must be within [0s, 1h]",
                     formatDuration(*rules.stabilizationWindow)));
  }
  if (rules.policies.empty()) {
    fail("needs at least one policy, e.g. pods:4:15s (Kubernetes rejects an empty list)");
  }
  for (const auto& policy : rules.policies) {
    if (policy.value <= 0) {
      fail(fmt::format("policy {}: value must be > 0", describePolicy(policy)));
    }
    if (policy.period <= Millis{0} || policy.period > kMaxPolicyPeriod) {
      fail(fmt::format("policy {}: period must be within (0s, 30m]", describePolicy(policy)));
    }
  }
  if (rules.tolerance && !(*rules.tolerance >= 0 && std::isfinite(*rules.tolerance))) {
    fail(fmt::format("tolerance {} must be a finite number >= 0", *rules.tolerance));
  }
}

// "pods:4:15s,percent:100:15s"
std::vector<HpaScalingPolicy> parsePolicies(PolicySettings& settings, std::string_view key,
                                            const std::string& text) {
  const auto fail = [&](std::string_view what) {
    settings.fail(key, fmt::format("{}; use TYPE:VALUE:PERIOD[,...] with TYPE pods or percent, "
                                   "e.g. pods:4:15s,percent:100:15s",
                                   what));
  };
  std::vector<HpaScalingPolicy> policies;
  std::string_view rest = text;
  while (true) {
    const std::string_view item = rest.substr(0, rest.find(','));
    const size_t first = item.find(':');
    const size_t second = first == std::string_view::npos ? first : item.find(':', first + 1);
    if (second == std::string_view::npos) fail(fmt::format("'{}' is not TYPE:VALUE:PERIOD", item));
    const std::string_view type = item.substr(0, first);
    const std::string_view value = item.substr(first + 1, second - first - 1);
    const std::string_view period = item.substr(second + 1);
    HpaScalingPolicy policy;
    if (type == "pods" || type == "Pods") {
      policy.type = HpaPolicyType::kPods;
    } else if (type == "percent" || type == "Percent") {
      policy.type = HpaPolicyType::kPercent;
    } else {
      fail(fmt::format("type '{}' is neither pods nor percent", type));
    }
    const std::string valueText(value);
    char* end = nullptr;
    const long parsed = std::strtol(valueText.c_str(), &end, 10);
    if (valueText.empty() || *end != '\0' || parsed <= 0 || parsed > kInt32Max) {
      fail(fmt::format("value '{}' is not a whole number > 0", value));
    }
    policy.value = static_cast<int32_t>(parsed);
    const auto duration = parseDuration(period);
    if (!duration) fail(fmt::format("period '{}' is not a duration such as 15s or 1m", period));
    policy.period = *duration;
    policies.push_back(policy);
    if (item.size() == rest.size()) break;
    rest.remove_prefix(item.size() + 1);
  }
  return policies;
}

void readRules(PolicySettings& settings, std::string_view prefix, HpaScalingRules& rules) {
  const std::string p(prefix);
  if (const auto window = settings.duration(p + "Stabilization")) {
    rules.stabilizationWindow = *window;
  }
  if (const auto text = settings.text(p + "Policies")) {
    rules.policies = parsePolicies(settings, p + "Policies", *text);
  }
  if (const auto select = settings.choice(p + "SelectPolicy", {"Max", "Min", "Disabled"})) {
    rules.selectPolicy = *select == "Max"   ? HpaSelectPolicy::kMax
                         : *select == "Min" ? HpaSelectPolicy::kMin
                                            : HpaSelectPolicy::kDisabled;
  }
  if (const auto tolerance = settings.number(p + "Tolerance", 0, 1e9)) rules.tolerance = *tolerance;
}

}  // namespace

HpaScalingRules HpaScalingRules::defaultScaleUp() {
  HpaScalingRules rules;
  rules.stabilizationWindow = Millis{0};
  rules.policies = {{HpaPolicyType::kPods, 4, Millis{15'000}},
                    {HpaPolicyType::kPercent, 100, Millis{15'000}}};
  rules.selectPolicy = HpaSelectPolicy::kMax;
  return rules;
}

HpaScalingRules HpaScalingRules::defaultScaleDown() {
  HpaScalingRules rules;
  rules.policies = {{HpaPolicyType::kPercent, 100, Millis{15'000}}};
  rules.selectPolicy = HpaSelectPolicy::kMax;
  return rules;
}

void HpaConfig::validate() const {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("hpa " + what); };
  // The HPAScaleToZero feature gate (alpha) would allow 0; KEDA never needs it, it scales to zero
  // itself and gives the HPA max(minReplicaCount, 1).
  if (minReplicas < 1) fail(fmt::format("minReplicas {} must be >= 1", minReplicas));
  if (maxReplicas < minReplicas) {
    fail(fmt::format("maxReplicas {} must be >= minReplicas {}", maxReplicas, minReplicas));
  }
  if (!(tolerance >= 0 && std::isfinite(tolerance))) {
    fail(fmt::format("tolerance {} must be a finite number >= 0 (Kubernetes default 0.1)",
                     tolerance));
  }
  if (syncPeriod <= Millis{0}) fail("syncPeriod must be > 0 (Kubernetes default 15s)");
  if (downscaleStabilization < Millis{0}) {
    fail("downscaleStabilization must be >= 0 (Kubernetes default 5m)");
  }
  if (behavior) {
    validateRules("scaleUp", behavior->scaleUp);
    validateRules("scaleDown", behavior->scaleDown);
  }
}

const std::vector<std::string_view>& HpaConfig::settingKeys() {
  static const std::vector<std::string_view> keys = {"minReplicas",
                                                     "maxReplicas",
                                                     "tolerance",
                                                     "syncPeriod",
                                                     "downscaleStabilization",
                                                     "behavior",
                                                     "scaleUpStabilization",
                                                     "scaleUpPolicies",
                                                     "scaleUpSelectPolicy",
                                                     "scaleUpTolerance",
                                                     "scaleDownStabilization",
                                                     "scaleDownPolicies",
                                                     "scaleDownSelectPolicy",
                                                     "scaleDownTolerance"};
  return keys;
}

HpaConfig HpaConfig::read(PolicySettings& settings) {
  HpaConfig config;
  if (const auto v = settings.integer("minReplicas", 0, kInt32Max)) {
    config.minReplicas = toInt32(*v);
  }
  if (const auto v = settings.integer("maxReplicas", 0, kInt32Max)) {
    config.maxReplicas = toInt32(*v);
  }
  if (const auto v = settings.number("tolerance", 0, 1e9)) config.tolerance = *v;
  if (const auto v = settings.duration("syncPeriod")) config.syncPeriod = *v;
  if (const auto v = settings.duration("downscaleStabilization")) {
    config.downscaleStabilization = *v;
  }

  bool anyRuleKey = false;
  for (const std::string_view key : settingKeys()) {
    if ((key.starts_with("scaleUp") || key.starts_with("scaleDown")) && settings.has(key)) {
      anyRuleKey = true;
    }
  }
  const auto behavior = settings.choice("behavior", {"none", "default"});
  if (behavior == "none" && anyRuleKey) {
    settings.fail("behavior",
                  "none leaves spec.behavior unset, but scaleUp*/scaleDown* keys set it; drop one");
  }
  if (behavior == "default" || anyRuleKey) {
    config.behavior = HpaBehavior{};
    readRules(settings, "scaleUp", config.behavior->scaleUp);
    readRules(settings, "scaleDown", config.behavior->scaleDown);
  }
  return config;
}

HpaConfig HpaConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  PolicySettings reader("hpa", settings);
  HpaConfig config = read(reader);
  reader.rejectUnknown(settingKeys());
  config.validate();
  return config;
}

std::string HpaConfig::describe() const {
  const std::string common = fmt::format("hpa min {} max {}, tolerance {}, sync {}", minReplicas,
                                         maxReplicas, tolerance, formatDuration(syncPeriod));
  if (!behavior) {
    return fmt::format(
        "{}, behavior unset: scale-down stabilization {}, scale-up limit max(2 × current, 4) per "
        "sync",
        common, formatDuration(downscaleStabilization));
  }
  return fmt::format("{}, behavior scaleUp [{}] scaleDown [{}]", common,
                     describeRules(behavior->scaleUp, "0s"),
                     describeRules(behavior->scaleDown, formatDuration(downscaleStabilization)));
}

Hpa::Hpa(HpaConfig config) : config_(std::move(config)) { config_.validate(); }

HpaRecommendation Hpa::recommend(Millis now, int32_t currentReplicas, double metricValue,
                                 double targetAverageValue) {
  if (!(targetAverageValue > 0)) {
    throw std::invalid_argument(
        fmt::format("hpa target average value {} must be > 0", targetAverageValue));
  }
  // recordInitialRecommendation: the first sync remembers the replica count it found, which
  // then takes part in the scale-down stabilization like any recommendation.
  if (recommendations_.empty()) recommendations_.push_back({currentReplicas, now});

  std::vector<std::string> steps;
  int32_t desired = 0;
  // minReplicas is never 0 here (validate), so at 0 replicas scaling is disabled.
  if (currentReplicas == 0) {
    return {0, "scaling disabled at 0 replicas (the HPA leaves a target at zero alone)"};
  }
  if (currentReplicas > config_.maxReplicas) {
    desired = config_.maxReplicas;
    steps.push_back(fmt::format("{} replicas above maxReplicas → {}", currentReplicas, desired));
  } else if (currentReplicas < config_.minReplicas) {
    desired = config_.minReplicas;
    steps.push_back(fmt::format("{} replicas below minReplicas → {}", currentReplicas, desired));
  } else {
    const int32_t proposal =
        metricProposal(currentReplicas, metricValue, targetAverageValue, steps);
    desired = config_.behavior ? normalizeWithBehavior(now, currentReplicas, proposal, steps)
                               : normalizeLegacy(now, currentReplicas, proposal, steps);
  }
  if (desired != currentReplicas) storeScaleEvent(now, currentReplicas, desired);
  return {desired, fmt::format("{}", fmt::join(steps, "; "))};
}

int32_t Hpa::metricProposal(int32_t currentReplicas, double metricValue, double targetAverageValue,
                            std::vector<std::string>& steps) const {
  // The external metrics API carries milli-quantities: KEDA sends lag x 1000 and the target
  // (lagThreshold) is read with Quantity.MilliValue(), which rounds up.
  const double usage = std::trunc(metricValue * 1000);
  const double target = std::ceil(targetAverageValue * 1000);
  const double ratio = usage / (target * currentReplicas);
  double toleranceDown = config_.tolerance;
  double toleranceUp = config_.tolerance;
  if (config_.behavior) {
    toleranceDown = config_.behavior->scaleDown.tolerance.value_or(toleranceDown);
    toleranceUp = config_.behavior->scaleUp.tolerance.value_or(toleranceUp);
  }
  const std::string compared =
      fmt::format("metric {} vs {} × target {}: ratio {:.3f}", formatFigure(usage / 1000),
                  currentReplicas, formatFigure(target / 1000), ratio);
  if (1.0 - toleranceDown <= ratio && ratio <= 1.0 + toleranceUp) {
    steps.push_back(fmt::format("{} within [{}, {}] → keep {}", compared,
                                formatFigure(1.0 - toleranceDown), formatFigure(1.0 + toleranceUp),
                                currentReplicas));
    return currentReplicas;
  }
  const double replicas = std::ceil(usage / target);
  const int32_t proposal = static_cast<int32_t>(
      std::clamp(replicas, static_cast<double>(kInt32Min), static_cast<double>(kInt32Max)));
  steps.push_back(fmt::format("{} {} {} → ceil({} / {}) = {}", compared, ratio > 1 ? ">" : "<",
                              formatFigure(ratio > 1 ? 1.0 + toleranceUp : 1.0 - toleranceDown),
                              formatFigure(usage / 1000), formatFigure(target / 1000), proposal));
  return proposal;
}

int32_t Hpa::normalizeLegacy(Millis now, int32_t currentReplicas, int32_t proposal,
                             std::vector<std::string>& steps) {
  // stabilizeRecommendation: the highest recommendation not older than the window, this one
  // included. A recommendation exactly at the cutoff still counts (the controller drops only those
  // Before(cutoff)).
  const Millis cutoff = now - config_.downscaleStabilization;
  int32_t stabilized = proposal;
  std::optional<size_t> oldSlot;
  for (size_t i = 0; i < recommendations_.size(); ++i) {
    if (recommendations_[i].at < cutoff) {
      oldSlot = i;
    } else {
      stabilized = std::max(stabilized, recommendations_[i].replicas);
    }
  }
  if (oldSlot) {
    recommendations_[*oldSlot] = {proposal, now};
  } else {
    recommendations_.push_back({proposal, now});
  }
  if (stabilized != proposal) {
    steps.push_back(fmt::format("scale-down stabilization: highest recommendation in {} → {}",
                                formatDuration(config_.downscaleStabilization), stabilized));
  }

  // convertDesiredReplicasWithRules: scale-up is limited to max(2 x current, 4) per sync,
  // whatever the time since the last scale; scale-down only by minReplicas.
  const int32_t upLimit = toInt32(std::max<int64_t>(2 * static_cast<int64_t>(currentReplicas), 4));
  if (stabilized < config_.minReplicas) {
    steps.push_back(fmt::format("below minReplicas → {}", config_.minReplicas));
    return config_.minReplicas;
  }
  if (config_.maxReplicas > upLimit) {
    if (stabilized > upLimit) {
      steps.push_back(fmt::format("scale-up limit max(2 × {}, 4) → {}", currentReplicas, upLimit));
      return upLimit;
    }
  } else if (stabilized > config_.maxReplicas) {
    steps.push_back(fmt::format("above maxReplicas → {}", config_.maxReplicas));
    return config_.maxReplicas;
  }
  return stabilized;
}

int32_t Hpa::normalizeWithBehavior(Millis now, int32_t currentReplicas, int32_t proposal,
                                   std::vector<std::string>& steps) {
  const HpaBehavior& behavior = *config_.behavior;
  // stabilizeRecommendationWithBehaviors: scale up no further than the lowest recommendation in
  // the scale-up window, down no further than the highest in the scale-down window. Here a
  // recommendation exactly at the cutoff no longer counts (After(cutoff)).
  const Millis upWindow = behavior.scaleUp.stabilizationWindow.value_or(Millis{0});
  const Millis downWindow =
      behavior.scaleDown.stabilizationWindow.value_or(config_.downscaleStabilization);
  const Millis upCutoff = now - upWindow;
  const Millis downCutoff = now - downWindow;
  int32_t upRecommendation = proposal;
  int32_t downRecommendation = proposal;
  std::optional<size_t> oldSlot;
  for (size_t i = 0; i < recommendations_.size(); ++i) {
    const Recommendation& r = recommendations_[i];
    if (r.at > upCutoff) upRecommendation = std::min(upRecommendation, r.replicas);
    if (r.at > downCutoff) downRecommendation = std::max(downRecommendation, r.replicas);
    if (r.at < upCutoff && r.at < downCutoff) oldSlot = i;
  }
  int32_t stabilized = currentReplicas;
  if (stabilized < upRecommendation) stabilized = upRecommendation;
  if (stabilized > downRecommendation) stabilized = downRecommendation;
  if (oldSlot) {
    recommendations_[*oldSlot] = {proposal, now};
  } else {
    recommendations_.push_back({proposal, now});
  }
  if (stabilized != proposal) {
    if (proposal >= currentReplicas) {
      steps.push_back(fmt::format("scale-up stabilization: lowest recommendation in {} is {} → {}",
                                  formatDuration(upWindow), upRecommendation, stabilized));
    } else {
      steps.push_back(
          fmt::format("scale-down stabilization: highest recommendation in {} is {} → {}",
                      formatDuration(downWindow), downRecommendation, stabilized));
    }
  }

  // convertDesiredReplicasWithBehaviorRate: the rate limits, then minReplicas/maxReplicas.
  if (stabilized > currentReplicas) {
    std::string limitText;
    const int32_t limit = std::max(scaleUpLimit(now, currentReplicas, limitText), currentReplicas);
    if (config_.maxReplicas > limit) {
      if (stabilized > limit) {
        steps.push_back(fmt::format("{} → {}", limitText, limit));
        return limit;
      }
    } else if (stabilized > config_.maxReplicas) {
      steps.push_back(fmt::format("above maxReplicas → {}", config_.maxReplicas));
      return config_.maxReplicas;
    }
  } else if (stabilized < currentReplicas) {
    std::string limitText;
    const int32_t limit =
        std::min(scaleDownLimit(now, currentReplicas, limitText), currentReplicas);
    if (config_.minReplicas < limit) {
      if (stabilized < limit) {
        steps.push_back(fmt::format("{} → {}", limitText, limit));
        return limit;
      }
    } else if (stabilized < config_.minReplicas) {
      steps.push_back(fmt::format("below minReplicas → {}", config_.minReplicas));
      return config_.minReplicas;
    }
  }
  return stabilized;
}

int32_t Hpa::changeInPeriod(Millis now, Millis period,
                            const std::vector<ScaleEvent>& events) const {
  // getReplicasChangePerPeriod: events strictly after now - period.
  const Millis cutoff = now - period;
  int64_t change = 0;
  for (const ScaleEvent& event : events) {
    if (event.at > cutoff) change += event.change;
  }
  return toInt32(change);
}

int32_t Hpa::scaleUpLimit(Millis now, int32_t currentReplicas, std::string& text) const {
  const HpaScalingRules& rules = config_.behavior->scaleUp;
  if (rules.selectPolicy == HpaSelectPolicy::kDisabled) {
    text = "scale-up disabled (selectPolicy Disabled)";
    return currentReplicas;
  }
  const bool pickMin = rules.selectPolicy == HpaSelectPolicy::kMin;
  int64_t result = pickMin ? kInt32Max : kInt32Min;
  std::vector<std::string> proposals;
  for (const HpaScalingPolicy& policy : rules.policies) {
    // Replicas at the start of the period: scale-ups in the period are undone, scale-downs added
    // back, so the limit holds over any window of `period`, not only per sync.
    const int64_t periodStart = int64_t{currentReplicas} -
                                changeInPeriod(now, policy.period, scaleUpEvents_) +
                                changeInPeriod(now, policy.period, scaleDownEvents_);
    // A percentage is rounded up, or a small target could never grow.
    const int64_t proposed = policy.type == HpaPolicyType::kPods
                                 ? periodStart + policy.value
                                 : static_cast<int64_t>(std::ceil(static_cast<double>(periodStart) *
                                                                  (1 + policy.value / 100.0)));
    result = pickMin ? std::min(result, proposed) : std::max(result, proposed);
    proposals.push_back(fmt::format("+{}{}/{} → {}", policy.value,
                                    policy.type == HpaPolicyType::kPods ? " pods" : "%",
                                    formatDuration(policy.period), proposed));
    if (periodStart != currentReplicas) {
      proposals.back() += fmt::format(" (from {} at period start)", periodStart);
    }
  }
  text = fmt::format("scale-up limit {}({})", pickMin ? "min" : "max", fmt::join(proposals, ", "));
  return toInt32(result);
}

int32_t Hpa::scaleDownLimit(Millis now, int32_t currentReplicas, std::string& text) const {
  const HpaScalingRules& rules = config_.behavior->scaleDown;
  if (rules.selectPolicy == HpaSelectPolicy::kDisabled) {
    text = "scale-down disabled (selectPolicy Disabled)";
    return currentReplicas;
  }
  // For scale-down the largest change is the lowest replica count.
  const bool pickLeastChange = rules.selectPolicy == HpaSelectPolicy::kMin;
  int64_t result = pickLeastChange ? kInt32Min : kInt32Max;
  std::vector<std::string> proposals;
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int64_t periodStart = int64_t{currentReplicas} -
                                changeInPeriod(now, policy.period, scaleUpEvents_) +
                                changeInPeriod(now, policy.period, scaleDownEvents_);
    // A percentage of the replicas that stay is truncated (Go's int32(float64)).
    const int64_t proposed =
        policy.type == HpaPolicyType::kPods
            ? periodStart - policy.value
            : static_cast<int64_t>(static_cast<double>(periodStart) * (1 - policy.value / 100.0));
    result = pickLeastChange ? std::max(result, proposed) : std::min(result, proposed);
    proposals.push_back(fmt::format("-{}{}/{} → {}", policy.value,
                                    policy.type == HpaPolicyType::kPods ? " pods" : "%",
                                    formatDuration(policy.period), proposed));
    if (periodStart != currentReplicas) {
      proposals.back() += fmt::format(" (from {} at period start)", periodStart);
    }
  }
  text = fmt::format("scale-down limit {}({})", pickLeastChange ? "min" : "max",
                     fmt::join(proposals, ", "));
  return toInt32(result);
}

void Hpa::storeScaleEvent(Millis now, int32_t previousReplicas, int32_t newReplicas) {
  // Without spec.behavior the controller keeps no events: nothing would read them.
  if (!config_.behavior) return;
  const bool up = newReplicas > previousReplicas;
  const HpaScalingRules& rules = up ? config_.behavior->scaleUp : config_.behavior->scaleDown;
  std::vector<ScaleEvent>& events = up ? scaleUpEvents_ : scaleDownEvents_;
  Millis longestPeriod{0};
  for (const HpaScalingPolicy& policy : rules.policies) {
    longestPeriod = std::max(longestPeriod, policy.period);
  }
  // markScaleEventsOutdated, then reuse the last outdated slot.
  const Millis cutoff = now - longestPeriod;
  std::optional<size_t> oldSlot;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].at < cutoff) events[i].outdated = true;
    if (events[i].outdated) oldSlot = i;
  }
  const ScaleEvent event{up ? newReplicas - previousReplicas : previousReplicas - newReplicas, now,
                         false};
  if (oldSlot) {
    events[*oldSlot] = event;
  } else {
    events.push_back(event);
  }
}

}  // namespace ebb::scale
