// The demo's pure pieces: the settings it gives each policy, and the live view's screen and line
// (apps/ebb/live_view.h, in the ebb_cli_view library).
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>

#include "ebb/demo/demo.h"
#include "ebb/demo/demo_view.h"
#include "ebb/scale/policy_factory.h"
#include "live_view.h"

namespace ebb::demo {
namespace {

using app::columns;
using app::renderLine;
using app::renderView;

TEST(DemoSettingsTest, ReplicaRateFollowsTheWork) {
  EXPECT_NEAR(replicaRate("sleep:1ms"), 909, 1);
  EXPECT_NEAR(replicaRate("cpu:400us"), 2000, 1);
  EXPECT_GT(replicaRate("none"), 10'000);
  EXPECT_THROW(replicaRate("nap:1ms"), std::invalid_argument);
}

TEST(DemoSettingsTest, EachPolicyGetsSettingsItAcceptsWithTheirReasons) {
  DemoOptions options;
  options.policies = {"slo", "keda", "static"};
  for (const auto& policy : options.policies) {
    const auto setup = policySettings(policy, options);
    EXPECT_NO_THROW(scale::makePolicy(policy, setup.settings)) << policy;
    EXPECT_FALSE(setup.notes.empty()) << policy;
  }
  const auto keda = policySettings("keda", options);
  // What one replica (about 909 msg/s) clears within the 500 ms objective.
  EXPECT_EQ(keda.settings.at("lagThreshold"), "455");
  EXPECT_EQ(keda.settings.at("maxReplicaCount"), "12");
  EXPECT_EQ(keda.settings.at("pollingInterval"), "5s");
  EXPECT_EQ(policySettings("slo", options).settings.at("objective"), "500ms");
  // Static is provisioned for the 4,000 msg/s peak with 20 % headroom: 6 replicas.
  EXPECT_EQ(policySettings("static", options).settings.at("replicas"), "6");
}

TEST(DemoSettingsTest, SetOverridesForEveryPolicyOrForTheOneItNames) {
  DemoOptions options;
  options.policies = {"slo", "keda"};
  options.settings = {"keda.lagThreshold=1000", "slo.drain=20s", "objective=250ms"};
  const auto keda = policySettings("keda", options);
  EXPECT_EQ(keda.settings.at("lagThreshold"), "1000");
  EXPECT_EQ(keda.settings.count("drain"), 0u);
  // The report says which settings were changed.
  EXPECT_NE(keda.notes.back().find("lagThreshold=1000"), std::string::npos) << keda.notes.back();
  const auto slo = policySettings("slo", options);
  EXPECT_EQ(slo.settings.at("drain"), "20s");
  EXPECT_EQ(slo.settings.at("objective"), "250ms");
  EXPECT_EQ(slo.settings.count("lagThreshold"), 0u);
}

TEST(DemoSettingsTest, MalformedSetOrOneForAPolicyNotRunIsAnError) {
  DemoOptions options;
  options.policies = {"slo"};
  options.settings = {"objective"};
  EXPECT_THROW(policySettings("slo", options), std::invalid_argument);
  options.settings = {"keda.lagThreshold=5"};
  try {
    policySettings("slo", options);
    FAIL() << "a setting for keda in a slo-only demo must be refused";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("does not run"), std::string::npos) << error.what();
  }
}

ViewState sampleState() {
  ViewState state;
  state.policy = "slo";
  state.load = "500 msg/s, spike x8";
  state.phase = "spike";
  state.elapsed = 92;
  state.duration = 240;
  state.targetRate = 4000;
  state.produceRate = 3987.4;
  state.consumeRate = 3012;
  state.lag = 12345;
  state.partitionLag = {1000, 2000, 0, 5, 10, 20, 30, 40, 50, 60, 70, 11060};
  state.desired = 6;
  state.running = 4;
  state.members = 3;
  state.p50Ms = 12;
  state.p99Ms = 734;
  state.lastChange = report::ScaleEvent{
      .t = 62,
      .from = 1,
      .to = 6,
      .reason = std::string(400, 'x') + " lag 10,306 → 6 replicas: serves 4k/s with 20% headroom"};
  return state;
}

TEST(LiveViewTest, ScreenShowsEveryFigureWithinTheWidth) {
  for (const int width : {40, 60, 80, 100, 140}) {
    const auto screen = renderView(sampleState(), width, /*color=*/true);
    std::istringstream lines(screen);
    size_t count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
      EXPECT_LT(columns(line), static_cast<size_t>(width)) << line;
    }
    EXPECT_GT(count, 15u);
  }
  for (const int width : {80, 100, 140}) {
    const auto screen = renderView(sampleState(), width, /*color=*/false);
    for (const std::string expected :
         {"policy slo", "1:32 / 4:00", "2:28 left", "4,000/s", "3,987/s", "3,012/s", "12,345",
          "p11", "11,060", "4 running · 6 desired · 3 in the group", "p99 734 ms",
          "over the objective", "at 1:02: 1 → 6"}) {
      EXPECT_NE(screen.find(expected), std::string::npos) << expected << " at width " << width;
    }
    // The reason is wrapped to at most three lines and cut with an ellipsis.
    EXPECT_NE(screen.find("…"), std::string::npos);
  }
}

TEST(LiveViewTest, ColoursOnlyWhenAsked) {
  EXPECT_EQ(renderView(sampleState(), 100, false).find('\x1b'), std::string::npos);
  EXPECT_NE(renderView(sampleState(), 100, true).find("\x1b[31m"), std::string::npos);
  auto fine = sampleState();
  fine.p99Ms = 20;
  EXPECT_NE(renderView(fine, 100, true).find("within the objective"), std::string::npos);
}

TEST(LiveViewTest, PlainLineForLogs) {
  const auto line = renderLine(sampleState());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  for (const std::string expected : {"1:32 / 4:00", "slo", "[spike]", "lag 12,345",
                                     "4 running, 6 desired", "p99 734 ms", "objective 500 ms"}) {
    EXPECT_NE(line.find(expected), std::string::npos) << expected << " in " << line;
  }
  ViewState empty;
  EXPECT_NE(renderLine(empty).find("p99 –"), std::string::npos);
}

TEST(LiveViewTest, ClockAndColumns) {
  EXPECT_EQ(clock(0), "0:00");
  EXPECT_EQ(clock(92.7), "1:32");
  EXPECT_EQ(clock(600), "10:00");
  EXPECT_EQ(columns("█░ ab"), 5u);
  EXPECT_EQ(columns("\x1b[1mab\x1b[0m"), 2u);
}

}  // namespace
}  // namespace ebb::demo
