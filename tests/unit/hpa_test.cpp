#include "ebb/scale/hpa.h"

#include <gtest/gtest.h>

#include "ebb/scale/policy_text.h"
#include "expect_invalid.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::scale {
namespace {

using std::chrono::seconds;

HpaConfig legacyConfig(int32_t minReplicas = 1, int32_t maxReplicas = 100) {
  HpaConfig config;
  config.minReplicas = minReplicas;
  config.maxReplicas = maxReplicas;
  return config;
}

HpaConfig behaviorConfig(int32_t minReplicas = 1, int32_t maxReplicas = 100) {
  HpaConfig config = legacyConfig(minReplicas, maxReplicas);
  config.behavior = HpaBehavior{};
  return config;
}

// One sync: at `atSeconds` the metric is `metric`; the HPA must answer `expected`.
struct Sync {
  int64_t atSeconds;
  double metric;
  int32_t expected;
};

struct Scenario {
  std::string name;
  HpaConfig config;
  int32_t startReplicas;
  double target;
  std::vector<Sync> syncs;
};

// Every sync sees the replica count the previous one wrote, as on a cluster where the scale
// subresource is updated at once.
void runScenario(const Scenario& scenario) {
  Hpa hpa(scenario.config);
  int32_t replicas = scenario.startReplicas;
  for (const Sync& sync : scenario.syncs) {
    const HpaRecommendation r =
        hpa.recommend(Millis(seconds(sync.atSeconds)), replicas, sync.metric, scenario.target);
    EXPECT_EQ(r.replicas, sync.expected)
        << scenario.name << " at " << sync.atSeconds << " s from " << replicas << ": " << r.reason;
    replicas = r.replicas;
  }
}

// Syncs every 15 s from `from` with a constant metric and the expected counts in order.
std::vector<Sync> every15s(int64_t from, double metric, const std::vector<int32_t>& expected) {
  std::vector<Sync> syncs;
  for (size_t i = 0; i < expected.size(); ++i) {
    syncs.push_back({from + 15 * static_cast<int64_t>(i), metric, expected[i]});
  }
  return syncs;
}

std::vector<Sync> concat(std::vector<Sync> a, const std::vector<Sync>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct OneSyncCase {
  std::string name;
  HpaConfig config;
  int32_t current;
  double metric;
  double target;
  int32_t expected;
};

TEST(HpaTest, OneSyncFromAnyState) {
  HpaConfig upTolerance = behaviorConfig();
  upTolerance.behavior->scaleUp.tolerance = 0.05;
  HpaConfig noScaleDownWindow = behaviorConfig();
  noScaleDownWindow.behavior->scaleDown.stabilizationWindow = Millis{0};
  HpaConfig minSelect = behaviorConfig();
  minSelect.behavior->scaleUp.selectPolicy = HpaSelectPolicy::kMin;
  HpaConfig upDisabled = behaviorConfig();
  upDisabled.behavior->scaleUp.selectPolicy = HpaSelectPolicy::kDisabled;

  const std::vector<OneSyncCase> cases = {
      // Tolerance: |ratio - 1| <= 0.1 keeps the count, both bounds included.
      {"ratio 1.0999 holds", legacyConfig(), 10, 10'999, 1000, 10},
      {"ratio exactly 1.1 holds", legacyConfig(), 10, 11'000, 1000, 10},
      {"ratio 1.1001 scales to ceil(11.001)", legacyConfig(), 10, 11'001, 1000, 12},
      {"ratio exactly 0.9 holds", noScaleDownWindow, 10, 9'000, 1000, 10},
      {"ratio 0.8999 scales down", noScaleDownWindow, 10, 8'999, 1000, 9},
      {"per-HPA scale-up tolerance 0.05", upTolerance, 10, 10'600, 1000, 11},
      // desired = ceil(metric / target), whatever the current count.
      {"AverageValue: ceil(48000 / 4000)", legacyConfig(), 12, 48'000, 4000, 12},
      {"fractional target", legacyConfig(), 4, 10, 2.5, 4},
      // Clamps.
      {"above maxReplicas", legacyConfig(1, 5), 8, 0, 1000, 5},
      {"below minReplicas", legacyConfig(3, 10), 2, 100'000, 1000, 3},
      {"desired above maxReplicas", legacyConfig(1, 6), 4, 100'000, 1000, 6},
      {"desired below minReplicas", noScaleDownWindow, 4, 0, 1000, 1},
      {"behavior: desired above maxReplicas", behaviorConfig(1, 6), 4, 100'000, 1000, 6},
      // The first legacy sync counts the replicas it found as a recommendation at the same
      // instant, so it cannot scale down.
      {"legacy first sync never scales down", legacyConfig(), 10, 0, 1000, 10},
      // At 0 replicas the HPA does nothing (KEDA activates).
      {"disabled at zero", legacyConfig(), 0, 1'000'000, 1000, 0},
      {"disabled at zero with behavior", behaviorConfig(), 0, 1'000'000, 1000, 0},
      // Policy selection.
      {"select Min: min(10+4, 10x2)", minSelect, 10, 100'000, 1000, 14},
      {"select Max: max(10+4, 10x2)", behaviorConfig(), 10, 100'000, 1000, 20},
      {"scale-up Disabled", upDisabled, 10, 100'000, 1000, 10},
  };
  for (const OneSyncCase& c : cases) {
    Hpa hpa(c.config);
    const HpaRecommendation r = hpa.recommend(Millis{0}, c.current, c.metric, c.target);
    EXPECT_EQ(r.replicas, c.expected) << c.name << ": " << r.reason;
    EXPECT_FALSE(r.reason.empty()) << c.name;
  }
}

TEST(HpaTest, ScenariosOverTime) {
  HpaConfig pods4Per60s = behaviorConfig();
  pods4Per60s.behavior->scaleUp.policies = {{HpaPolicyType::kPods, 4, Millis{60'000}}};
  HpaConfig halfPer15s = behaviorConfig();
  halfPer15s.behavior->scaleDown.stabilizationWindow = Millis{0};
  halfPer15s.behavior->scaleDown.policies = {{HpaPolicyType::kPercent, 50, Millis{15'000}}};
  HpaConfig halfPer60s = halfPer15s;
  halfPer60s.behavior->scaleDown.policies = {{HpaPolicyType::kPercent, 50, Millis{60'000}}};
  HpaConfig upWindow60s = behaviorConfig();
  upWindow60s.behavior->scaleUp.stabilizationWindow = Millis{60'000};
  HpaConfig downDisabled = behaviorConfig();
  downDisabled.behavior->scaleDown.stabilizationWindow = Millis{0};
  downDisabled.behavior->scaleDown.selectPolicy = HpaSelectPolicy::kDisabled;
  HpaConfig downWindow60s = behaviorConfig();
  downWindow60s.behavior->scaleDown.stabilizationWindow = Millis{60'000};

  const std::vector<Scenario> scenarios = {
      // spec.behavior unset (KEDA's default): at most max(2 x current, 4) per sync.
      {"legacy scale-up from 1", legacyConfig(), 1, 1000,
       every15s(0, 1'000'000, {4, 8, 16, 32, 64, 100, 100})},
      // Default behavior: max(+4 pods, +100 %) per 15 s.
      {"default behavior scale-up from 1", behaviorConfig(), 1, 1000,
       every15s(0, 1'000'000, {5, 10, 20, 40, 80, 100, 100})},
      // Scale-ups inside the period count against it: +4 per 60 s gives 5 at 0 s, then nothing
      // until the event at 0 s leaves the period (events strictly after now - 60 s count).
      {"pods 4 per 60s", pods4Per60s, 1, 1000,
       every15s(0, 1'000'000, {5, 5, 5, 5, 9, 9, 9, 9, 13})},
      // The scale-down stabilization window, legacy path: load drops at 60 s. The last high
      // recommendation (45 s) still counts at the cutoff, so the drop comes at 360 s = 60 + 300.
      {"legacy scale-down after 300 s", legacyConfig(), 10, 1000,
       concat(every15s(0, 10'000, {10, 10, 10, 10}),
              concat(every15s(60, 1'000, std::vector<int32_t>(20, 10)),
                     every15s(360, 1'000, {1, 1})))},
      // Same with spec.behavior: recommendations strictly after now - 300 s count, so the drop
      // comes at 345 s, 300 s after the last high recommendation. 100 % per 15 s lets it go
      // straight to minReplicas.
      {"behavior scale-down after 300 s", behaviorConfig(), 10, 1000,
       concat(every15s(0, 10'000, {10, 10, 10, 10}),
              concat(every15s(60, 1'000, std::vector<int32_t>(19, 10)),
                     every15s(345, 1'000, {1, 1})))},
      {"50 % per 15 s scale-down", halfPer15s, 16, 1000, every15s(0, 1'000, {8, 4, 2, 1, 1})},
      {"50 % per 60 s scale-down", halfPer60s, 16, 1000,
       every15s(0, 1'000, {8, 8, 8, 8, 4, 4, 4, 4, 2})},
      // Scale-up stabilization: the lowest recommendation in the last 60 s, the initial count
      // included, then the rate limit.
      {"scale-up window 60 s", upWindow60s, 2, 1000, every15s(0, 10'000, {2, 2, 2, 2, 6, 10})},
      {"scale-down Disabled", downDisabled, 10, 1000, every15s(0, 1'000, {10, 10, 10})},
      // A short spike inside the scale-down window does not bring the count down between.
      {"spike held by the window",
       downWindow60s,
       4,
       1000,
       {{0, 4'000, 4},
        {15, 8'000, 8},
        {30, 2'000, 8},
        {45, 2'000, 8},
        {60, 2'000, 8},
        {75, 2'000, 2}}},
  };
  for (const Scenario& scenario : scenarios) runScenario(scenario);
}

TEST(HpaTest, ScaleDownThenUpInOnePeriodCountsBoth) {
  // calculateScaleUpLimitWithScalingRules adds back replicas removed in the period, so a
  // scale-down does not make room for a larger scale-up.
  HpaConfig config = behaviorConfig();
  config.behavior->scaleDown.stabilizationWindow = Millis{0};
  config.behavior->scaleUp.policies = {{HpaPolicyType::kPods, 2, Millis{60'000}}};
  config.behavior->scaleDown.policies = {{HpaPolicyType::kPods, 2, Millis{60'000}}};
  Hpa hpa(config);
  EXPECT_EQ(hpa.recommend(Millis{0}, 10, 1'000, 1000).replicas, 8);  // -2
  // From 8: period start is 8 + 2 = 10, so the limit is 12, not 10.
  EXPECT_EQ(hpa.recommend(Millis{15'000}, 8, 100'000, 1000).replicas, 12);
  // Now the period holds +4 and -2: start = 12 - 4 + 2 = 10, limit 12.
  EXPECT_EQ(hpa.recommend(Millis{30'000}, 12, 100'000, 1000).replicas, 12);
}

TEST(HpaTest, ReasonShowsTheFigures) {
  Hpa legacy(legacyConfig());
  const HpaRecommendation up = legacy.recommend(Millis{0}, 4, 48'000, 4'000);
  EXPECT_EQ(up.replicas, 8);
  EXPECT_EQ(up.reason,
            "metric 48,000 vs 4 × target 4,000: ratio 3.000 > 1.1 → ceil(48,000 / 4,000) = 12; "
            "scale-up limit max(2 × 4, 4) → 8");

  Hpa withBehavior(behaviorConfig());
  const HpaRecommendation limited = withBehavior.recommend(Millis{0}, 4, 48'000, 4'000);
  EXPECT_EQ(limited.replicas, 8);
  EXPECT_NE(limited.reason.find("scale-up limit max(+4 pods/15s → 8, +100%/15s → 8) → 8"),
            std::string::npos)
      << limited.reason;

  Hpa holding(legacyConfig());
  const HpaRecommendation hold = holding.recommend(Millis{0}, 10, 10'500, 1'000);
  EXPECT_EQ(hold.reason,
            "metric 10,500 vs 10 × target 1,000: ratio 1.050 within [0.9, 1.1] → keep 10");

  Hpa down(legacyConfig());
  down.recommend(Millis{0}, 10, 10'000, 1'000);
  const HpaRecommendation stabilized = down.recommend(Millis{15'000}, 10, 2'000, 1'000);
  EXPECT_EQ(stabilized.replicas, 10);
  EXPECT_NE(stabilized.reason.find("scale-down stabilization: highest recommendation in 5m → 10"),
            std::string::npos)
      << stabilized.reason;
}

TEST(HpaTest, DefaultsAreKubernetes) {
  const HpaConfig config;
  EXPECT_EQ(config.minReplicas, 1);
  EXPECT_EQ(config.maxReplicas, 100);
  EXPECT_DOUBLE_EQ(config.tolerance, 0.1);
  EXPECT_EQ(config.syncPeriod, Millis{15'000});
  EXPECT_EQ(config.downscaleStabilization, Millis{300'000});
  EXPECT_FALSE(config.behavior.has_value());
  const HpaBehavior behavior;
  EXPECT_EQ(behavior.scaleUp.stabilizationWindow, Millis{0});
  ASSERT_EQ(behavior.scaleUp.policies.size(), 2u);
  EXPECT_EQ(behavior.scaleUp.policies[0].type, HpaPolicyType::kPods);
  EXPECT_EQ(behavior.scaleUp.policies[0].value, 4);
  EXPECT_EQ(behavior.scaleUp.policies[1].type, HpaPolicyType::kPercent);
  EXPECT_EQ(behavior.scaleUp.policies[1].value, 100);
  EXPECT_EQ(behavior.scaleUp.selectPolicy, HpaSelectPolicy::kMax);
  EXPECT_FALSE(behavior.scaleDown.stabilizationWindow.has_value());
  ASSERT_EQ(behavior.scaleDown.policies.size(), 1u);
  EXPECT_EQ(behavior.scaleDown.policies[0].type, HpaPolicyType::kPercent);
  EXPECT_EQ(behavior.scaleDown.policies[0].period, Millis{15'000});
}

TEST(HpaTest, ValidateSaysWhatToFix) {
  struct Case {
    std::string name;
    void (*mutate)(HpaConfig&);
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"min 0", [](HpaConfig& c) { c.minReplicas = 0; }, "minReplicas 0 must be >= 1"},
      {"max < min", [](HpaConfig& c) { c.maxReplicas = 0; },
       "maxReplicas 0 must be >= minReplicas 1"},
      {"negative tolerance", [](HpaConfig& c) { c.tolerance = -0.1; }, "tolerance"},
      {"zero sync", [](HpaConfig& c) { c.syncPeriod = Millis{0}; }, "syncPeriod"},
      {"no policies",
       [](HpaConfig& c) {
         c.behavior = HpaBehavior{};
         c.behavior->scaleUp.policies.clear();
       },
       "behavior.scaleUp: needs at least one policy"},
      {"policy value 0",
       [](HpaConfig& c) {
         c.behavior = HpaBehavior{};
         c.behavior->scaleDown.policies = {{HpaPolicyType::kPods, 0, Millis{15'000}}};
       },
       "value must be > 0"},
      {"period over 30m",
       [](HpaConfig& c) {
         c.behavior = HpaBehavior{};
         c.behavior->scaleDown.policies = {{HpaPolicyType::kPods, 1, Millis{1'800'001}}};
       },
       "period must be within (0s, 30m]"},
      {"window over 1h",
       [](HpaConfig& c) {
         c.behavior = HpaBehavior{};
         c.behavior->scaleDown.stabilizationWindow = Millis{3'600'001};
       },
       "stabilizationWindow"},
  };
  EXPECT_NO_THROW(HpaConfig{}.validate());
  for (const Case& c : cases) {
    HpaConfig config;
    c.mutate(config);
    test::expectInvalid([&] { config.validate(); }, c.fragment, c.name);
    EXPECT_THROW(Hpa{config}, std::invalid_argument) << c.name;
  }
}

TEST(HpaTest, FromSettingsReadsEveryKey) {
  const HpaConfig config = HpaConfig::fromSettings({{"minReplicas", "2"},
                                                    {"maxReplicas", "40"},
                                                    {"tolerance", "0.05"},
                                                    {"syncPeriod", "500ms"},
                                                    {"downscaleStabilization", "2m"},
                                                    {"scaleUpStabilization", "30s"},
                                                    {"scaleUpPolicies", "pods:2:1m,percent:50:30s"},
                                                    {"scaleUpSelectPolicy", "min"},
                                                    {"scaleUpTolerance", "0"},
                                                    {"scaleDownPolicies", "Pods:1:15s"},
                                                    {"scaleDownSelectPolicy", "Disabled"}});
  EXPECT_EQ(config.minReplicas, 2);
  EXPECT_EQ(config.maxReplicas, 40);
  EXPECT_DOUBLE_EQ(config.tolerance, 0.05);
  EXPECT_EQ(config.syncPeriod, Millis{500});
  EXPECT_EQ(config.downscaleStabilization, Millis{120'000});
  ASSERT_TRUE(config.behavior.has_value());
  EXPECT_EQ(config.behavior->scaleUp.stabilizationWindow, Millis{30'000});
  ASSERT_EQ(config.behavior->scaleUp.policies.size(), 2u);
  EXPECT_EQ(config.behavior->scaleUp.policies[0].type, HpaPolicyType::kPods);
  EXPECT_EQ(config.behavior->scaleUp.policies[0].value, 2);
  EXPECT_EQ(config.behavior->scaleUp.policies[0].period, Millis{60'000});
  EXPECT_EQ(config.behavior->scaleUp.policies[1].type, HpaPolicyType::kPercent);
  EXPECT_EQ(config.behavior->scaleUp.policies[1].period, Millis{30'000});
  EXPECT_EQ(config.behavior->scaleUp.selectPolicy, HpaSelectPolicy::kMin);
  EXPECT_EQ(config.behavior->scaleUp.tolerance, 0.0);
  // Unset fields keep the API defaults.
  EXPECT_FALSE(config.behavior->scaleDown.stabilizationWindow.has_value());
  EXPECT_EQ(config.behavior->scaleDown.selectPolicy, HpaSelectPolicy::kDisabled);
  ASSERT_EQ(config.behavior->scaleDown.policies.size(), 1u);
  EXPECT_EQ(config.behavior->scaleDown.policies[0].value, 1);

  EXPECT_FALSE(HpaConfig::fromSettings({}).behavior.has_value());
  EXPECT_FALSE(HpaConfig::fromSettings({{"behavior", "none"}}).behavior.has_value());
  const HpaConfig defaults = HpaConfig::fromSettings({{"behavior", "default"}});
  ASSERT_TRUE(defaults.behavior.has_value());
  EXPECT_EQ(defaults.behavior->scaleUp.policies.size(), 2u);
  EXPECT_EQ(HpaConfig::fromSettings({{"syncPeriod", "30"}}).syncPeriod, Millis{30'000});
}

TEST(HpaTest, FromSettingsRejectsBadInput) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"minReplica", "2"}}, "'minReplica' is unknown; the hpa policy accepts: minReplicas"},
      {{{"maxReplicas", "ten"}}, "maxReplicas='ten': not a whole number"},
      {{{"tolerance", "-1"}}, "tolerance='-1': use a number in"},
      {{{"syncPeriod", "15 sec"}}, "syncPeriod='15 sec': use a whole number of milliseconds"},
      {{{"syncPeriod", "0.5ms"}}, "syncPeriod='0.5ms'"},
      {{{"behavior", "on"}}, "behavior='on': use one of none, default"},
      {{{"behavior", "none"}, {"scaleUpPolicies", "pods:4:15s"}}, "drop one"},
      {{{"scaleUpPolicies", "pods:4"}}, "'pods:4' is not TYPE:VALUE:PERIOD"},
      {{{"scaleUpPolicies", "cpu:4:15s"}}, "type 'cpu' is neither pods nor percent"},
      {{{"scaleUpPolicies", "pods:-4:15s"}}, "value '-4' is not a whole number > 0"},
      {{{"scaleUpPolicies", "pods:4:15x"}}, "period '15x' is not a duration"},
      {{{"scaleDownSelectPolicy", "maximum"}}, "use one of Max, Min, Disabled"},
      {{{"minReplicas", "0"}}, "minReplicas 0 must be >= 1"},
      {{{"scaleDownStabilization", "2h"}}, "stabilizationWindow 2h must be within [0s, 1h]"},
  };
  for (const auto& [settings, fragment] : cases) {
    test::expectInvalid([&] { HpaConfig::fromSettings(settings); }, fragment, fragment);
  }
}

TEST(HpaTest, DescribeNamesThePath) {
  EXPECT_NE(HpaConfig{}.describe().find("behavior unset"), std::string::npos);
  EXPECT_NE(behaviorConfig().describe().find("Max(pods:4:15s,percent:100:15s)"), std::string::npos)
      << behaviorConfig().describe();
}

// The figures in reasons and the durations in settings (policy_text.h), shared by every policy.
TEST(HpaTextTest, FiguresAndDurations) {
  const std::vector<std::pair<double, std::string>> figures = {
      {0, "0"},
      {999, "999"},
      {1000, "1,000"},
      {48'000, "48,000"},
      {1'200'000, "1,200,000"},
      {-4'000, "-4,000"},
      {0.5, "0.5"},
      {1.1, "1.1"},
      {3.33333, "3.333"},
      {0.9, "0.9"},
  };
  for (const auto& [value, text] : figures) EXPECT_EQ(formatFigure(value), text) << value;

  const std::vector<std::pair<std::string, std::optional<Millis>>> durations = {
      {"500ms", Millis{500}},  {"15s", Millis{15'000}}, {"15", Millis{15'000}},
      {"1.5s", Millis{1'500}}, {"5m", Millis{300'000}}, {"1h", Millis{3'600'000}},
      {"5M", Millis{300'000}}, {"0s", Millis{0}},       {"", std::nullopt},
      {"s", std::nullopt},     {"-1s", std::nullopt},   {"1.5ms", std::nullopt},
      {"5min", std::nullopt},  {"1d", std::nullopt},
  };
  for (const auto& [text, expected] : durations) EXPECT_EQ(parseDuration(text), expected) << text;

  const std::vector<std::pair<Millis, std::string>> printed = {
      {Millis{0}, "0s"},          {Millis{500}, "500ms"},    {Millis{15'000}, "15s"},
      {Millis{90'000}, "90s"},    {Millis{300'000}, "5m"},   {Millis{3'600'000}, "1h"},
      {Millis{5'400'000}, "90m"}, {Millis{1'500}, "1500ms"},
  };
  for (const auto& [duration, text] : printed) {
    EXPECT_EQ(formatDuration(duration), text);
    EXPECT_EQ(parseDuration(text), duration) << text;
  }
}

}  // namespace
}  // namespace ebb::scale
