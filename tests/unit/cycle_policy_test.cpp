#include "ebb/scale/cycle_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "expect_invalid.h"

namespace ebb::scale {
namespace {

using test::expectInvalid;

TEST(CyclePolicyTest, StepsThroughItsCountsOnePerPeriodFromTheFirstObservation) {
  CyclePolicy policy(CycleConfig::fromSettings({{"counts", "4,5,8"}, {"period", "15s"}}));
  const auto at = [&](int64_t ms) {
    return policy.decide({.at = Millis(ms), .currentReplicas = 1}).replicas;
  };
  EXPECT_EQ(at(1000), 4);  // the cycle starts here
  EXPECT_EQ(at(15'999), 4);
  EXPECT_EQ(at(16'000), 5);
  EXPECT_EQ(at(31'000), 8);
  EXPECT_EQ(at(46'000), 4);
  EXPECT_EQ(policy.decide({.at = Millis(61'000)}).reason,
            "cycle: 5 replicas in period 5 of [4, 5, 8], 15s each");
  EXPECT_EQ(policy.interval(), Millis(1000));
}

TEST(CyclePolicyTest, RejectsBadSettingsNamingTheKey) {
  using Settings = std::map<std::string, std::string>;
  // 2.9e29: found by the policy_settings fuzzer (the int conversion was undefined behaviour).
  for (const auto& counts :
       {"", "4,", "x", "-1", "1.5", "4,,5", "288888888888888888888888888888"}) {
    expectInvalid(
        [&] {
          CycleConfig::fromSettings(Settings{{"counts", counts}});
        },
        "counts", counts);
  }
  expectInvalid([] { CycleConfig::fromSettings({{"period", "0s"}}); }, "period", "period 0s");
  expectInvalid([] { CycleConfig::fromSettings({{"pattern", "1,2"}}); }, "pattern", "unknown");
}

}  // namespace
}  // namespace ebb::scale
