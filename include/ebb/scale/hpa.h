// The Kubernetes HorizontalPodAutoscaler for one External metric with an AverageValue target, the
// HPA that KEDA creates for a ScaledObject. It is kube-controller-manager's podautoscaler
// (horizontal.go, replica_calculator.go) reduced to its arithmetic. It keeps the same
// recommendation and scale-event history, so a sequence of syncs gives the replica counts that
// the real controller would write. Pure: time comes in with each call.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/policy.h"

namespace ebb::scale {

class PolicySettings;

enum class HpaPolicyType { kPods, kPercent };

// One entry of behavior.scaleUp/scaleDown.policies: within any `period`, change the replica count
// by at most `value` pods, or by `value` percent of the count at the start of the period.
struct HpaScalingPolicy {
  HpaPolicyType type = HpaPolicyType::kPods;
  int32_t value = 0;
  Millis period{0};
};

// Which policy wins when there are several: Max allows the largest change, Min the smallest, and
// Disabled allows no change in that direction.
enum class HpaSelectPolicy { kMax, kMin, kDisabled };

// behavior.scaleUp or behavior.scaleDown.
struct HpaScalingRules {
  // The window over which recommendations are stabilized: scale-up takes the lowest recommendation
  // in the window and scale-down the highest. If nullopt on scale-down, the controller's
  // downscaleStabilization is used, as the API server leaves it unset.
  std::optional<Millis> stabilizationWindow;
  std::vector<HpaScalingPolicy> policies;
  HpaSelectPolicy selectPolicy = HpaSelectPolicy::kMax;
  // behavior.*.tolerance (feature HPAConfigurableTolerance, Kubernetes 1.33+). If nullopt, the
  // controller's tolerance is used.
  std::optional<double> tolerance;

  // The API server's defaults (pkg/apis/autoscaling/v2/defaults.go).
  // Scale-up: no stabilization; max(4 pods, 100 %) per 15 s.
  static HpaScalingRules defaultScaleUp();
  // Scale-down: the controller's stabilization window; 100 % per 15 s.
  static HpaScalingRules defaultScaleDown();
};

struct HpaBehavior {
  HpaScalingRules scaleUp = HpaScalingRules::defaultScaleUp();
  HpaScalingRules scaleDown = HpaScalingRules::defaultScaleDown();
};

struct HpaConfig {
  // spec.minReplicas and spec.maxReplicas. Kubernetes requires maxReplicas; 100 is KEDA's default.
  int32_t minReplicas = 1;
  int32_t maxReplicas = 100;
  // kube-controller-manager flags: --horizontal-pod-autoscaler-tolerance, -sync-period and
  // -downscale-stabilization. They are set for the whole cluster and cannot be set per HPA.
  double tolerance = 0.1;
  Millis syncPeriod{15'000};
  Millis downscaleStabilization{300'000};
  // spec.behavior. KEDA leaves it unset unless the ScaledObject sets
  // advanced.horizontalPodAutoscalerConfig.behavior. When it is unset, the controller takes its
  // older path (normalizeDesiredReplicas): stabilization over downscaleStabilization, then a
  // scale-up limit of max(2 x current, 4) per sync and no scale-down rate limit. When it is set,
  // missing fields take the API defaults above (normalizeDesiredReplicasWithBehaviors).
  std::optional<HpaBehavior> behavior;

  // Throws std::invalid_argument saying which field is wrong and what it accepts.
  void validate() const;

  // Keys (durations as 500ms, 15s, 5m; policies as pods:4:15s,percent:100:15s):
  //   minReplicas=1 maxReplicas=100 tolerance=0.1 syncPeriod=15s downscaleStabilization=5m
  //   behavior=none|default     none: spec.behavior unset (KEDA's default); default: API defaults
  //   scaleUpStabilization=0s scaleUpPolicies=pods:4:15s,percent:100:15s scaleUpSelectPolicy=Max
  //   scaleUpTolerance=0.1 scaleDownStabilization=5m scaleDownPolicies=percent:100:15s
  //   scaleDownSelectPolicy=Max scaleDownTolerance=0.1
  // Any scaleUp* or scaleDown* key sets spec.behavior. Unknown keys and bad values throw
  // std::invalid_argument naming the key and what it accepts. The result is validated.
  static HpaConfig fromSettings(const std::map<std::string, std::string>& settings);
  // Reads this config's keys from settings that other keys share (KEDA's), without validating or
  // rejecting unknown keys.
  static HpaConfig read(PolicySettings& settings);
  static const std::vector<std::string_view>& settingKeys();

  // One line for logs: "hpa min 1 max 100, tolerance 0.1, sync 15s, behavior unset (...)".
  std::string describe() const;
};

struct HpaRecommendation {
  int32_t replicas = 0;
  std::string reason;  // the figures, step by step: metric, tolerance, stabilization, limits
};

class Hpa {
 public:
  explicit Hpa(HpaConfig config);  // validates

  const HpaConfig& config() const { return config_; }

  // One sync of the controller (reconcileAutoscaler) at `now`. The target has `currentReplicas`
  // replicas, and the metric is `metricValue` against a target of `targetAverageValue` per
  // replica. The result is the replica count that the HPA writes (currentReplicas when it leaves
  // the target alone). At 0 replicas the HPA is disabled and answers 0; KEDA activates from 0.
  // Call once per sync period with a non-decreasing `now`.
  HpaRecommendation recommend(Millis now, int32_t currentReplicas, double metricValue,
                              double targetAverageValue);

 private:
  struct Recommendation {
    int32_t replicas;
    Millis at;
  };
  struct ScaleEvent {
    int32_t change;  // replicas added (scale-up list) or removed (scale-down list), > 0
    Millis at;
    bool outdated;
  };

  int32_t metricProposal(int32_t currentReplicas, double metricValue, double targetAverageValue,
                         std::vector<std::string>& steps) const;
  int32_t normalizeLegacy(Millis now, int32_t currentReplicas, int32_t proposal,
                          std::vector<std::string>& steps);
  int32_t normalizeWithBehavior(Millis now, int32_t currentReplicas, int32_t proposal,
                                std::vector<std::string>& steps);
  int32_t scaleUpLimit(Millis now, int32_t currentReplicas, std::string& text) const;
  int32_t scaleDownLimit(Millis now, int32_t currentReplicas, std::string& text) const;
  int32_t changeInPeriod(Millis now, Millis period, const std::vector<ScaleEvent>& events) const;
  void storeScaleEvent(Millis now, int32_t previousReplicas, int32_t newReplicas);

  HpaConfig config_;
  // The unstabilized recommendations; the controller reuses a slot once it is older than both
  // stabilization windows.
  std::vector<Recommendation> recommendations_;
  std::vector<ScaleEvent> scaleUpEvents_;
  std::vector<ScaleEvent> scaleDownEvents_;
};

}  // namespace ebb::scale
