#include "ebb/scale/static_policy.h"
#include "expect_invalid.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::scale {
namespace {

TEST(StaticPolicyTest, AnswersTheFixedCountWhateverItSees) {
  struct Case {
    int32_t fixed;
    int32_t current;
    int64_t lag;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {3, 3, 0, "static: fixed at 3 replicas"},
      {3, 0, 1'000'000, "static: fixed at 3 replicas (0 running → 3)"},
      {3, 7, 5, "static: fixed at 3 replicas (7 running → 3)"},
      {0, 2, 100, "static: fixed at 0 replicas (2 running → 0)"},
  };
  for (const Case& c : cases) {
    StaticConfig config;
    config.replicas = c.fixed;
    StaticPolicy policy(config);
    Observation observation;
    observation.at = Millis{30'000};
    observation.partitions = {{0, 0, 1000 + c.lag, 1000}};
    observation.currentReplicas = c.current;
    const Decision d = policy.decide(observation);
    EXPECT_EQ(d.replicas, c.fixed);
    EXPECT_EQ(d.reason, c.reason);
  }
}

TEST(StaticPolicyTest, NameAndInterval) {
  StaticPolicy policy(StaticConfig{});
  EXPECT_EQ(policy.name(), "static");
  EXPECT_EQ(policy.interval(), Millis{15'000});
}

TEST(StaticPolicyTest, FromSettings) {
  const StaticConfig config = StaticConfig::fromSettings({{"replicas", "6"}, {"interval", "5s"}});
  EXPECT_EQ(config.replicas, 6);
  EXPECT_EQ(config.interval, Millis{5'000});
  EXPECT_EQ(StaticConfig::fromSettings({}).replicas, 1);

  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> bad = {
      {{{"replica", "6"}},
       "static setting 'replica' is unknown; the static policy accepts: "
       "replicas, interval"},
      {{{"replicas", "-1"}}, "replicas='-1': use an integer in [0, 2147483647]"},
      {{{"replicas", "six"}}, "replicas='six': not a whole number"},
      {{{"interval", "0s"}}, "static interval must be > 0"},
      {{{"interval", "soon"}}, "interval='soon'"},
  };
  for (const auto& [settings, fragment] : bad) {
    test::expectInvalid([&] { StaticConfig::fromSettings(settings); }, fragment, fragment);
  }
  StaticConfig negative;
  negative.replicas = -2;
  EXPECT_THROW(StaticPolicy{negative}, std::invalid_argument);
}

}  // namespace
}  // namespace ebb::scale
