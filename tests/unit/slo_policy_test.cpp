#include "ebb/scale/slo_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::scale {
namespace {

using namespace std::chrono_literals;

// A group's offsets moved by hand: produced and consumed spread evenly over the partitions that
// are not stuck (a stuck partition's committed offset stands still).
class Feed {
 public:
  Feed(int32_t partitions, int32_t initialReplicas)
      : replicas(initialReplicas),
        produced_(static_cast<size_t>(partitions), 0.0),
        committed_(static_cast<size_t>(partitions), 0.0) {}

  // A backlog already there: `messages` produced and not consumed, spread evenly.
  void preload(double messages) {
    for (double& p : produced_) p += messages / static_cast<double>(produced_.size());
  }

  // `seconds` pass: arrivals at `arrivalRate`, commits at `consumeRate` (at most what is there).
  Observation advance(double seconds, double arrivalRate, double consumeRate) {
    at_ += seconds;
    const auto all = static_cast<double>(produced_.size());
    const auto moving = static_cast<double>(produced_.size() - stuck.size());
    for (size_t p = 0; p < produced_.size(); ++p) {
      produced_[p] += arrivalRate * seconds / all;
      if (std::ranges::find(stuck, static_cast<int32_t>(p)) != stuck.end()) continue;
      committed_[p] = std::min(produced_[p], committed_[p] + consumeRate * seconds / moving);
    }
    return observe();
  }

  Observation observe() const {
    Observation o;
    o.at = Millis(std::llround(at_ * 1000));
    o.currentReplicas = replicas;
    o.shareGroup = shareGroup;
    for (size_t p = 0; p < produced_.size(); ++p) {
      o.partitions.push_back(
          {static_cast<int32_t>(p), 0, std::llround(produced_[p]), std::llround(committed_[p])});
    }
    return o;
  }

  int32_t replicas;
  std::vector<int32_t> stuck;
  bool shareGroup = false;

 private:
  double at_ = 0;
  std::vector<double> produced_;
  std::vector<double> committed_;
};

// The arrival rate is the last sample (no smoothing, no trend) and the lag all backlog (commits
// as processed), so sizes can be worked out by hand.
SloConfig exact() {
  SloConfig config;
  config.smoothing = 1;
  config.trendSmoothing = 0;
  config.commitInterval = 0ms;
  return config;
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(SloPolicyTest, ForecastOfTheFluidModel) {
  struct Case {
    std::string name;
    double backlog, arrivals, capacity, pause;
    double violation, backlogAtHorizon;
  };
  // Objective 0.5 s, horizon 30 s.
  const std::vector<Case> cases = {
      {"copes", 0, 900, 1000, 0, 0, 0},
      // Backlog grows 500/s; waits pass 0.5 s at 500 behind, after 1 s.
      {"overloaded", 0, 1500, 1000, 0, 29, 15'000},
      // A 3 s pause piles up 3,000; then 1k/s of surplus gets below 1,000 behind in 2 s.
      {"pause", 0, 1000, 2000, 3, 5, 0},
      // During a 1 s pause the wait falls from 1 s to 0.1 s: over 0.5 s for the first 0.556 s.
      {"short pause", 0, 100, 1000, 1, 0.5 / 0.9, 0},
      // 4,000 behind at 1k/s of surplus over 3k/s: 3,000 of it must go, 3 s.
      {"draining", 4000, 3000, 4000, 0, 2, 0},
      {"nothing consumes", 10, 0, 0, 0, 30, 10},
      {"idle and empty", 0, 0, 0, 0, 0, 0},
  };
  for (const Case& c : cases) {
    const Forecast f = forecast(c.backlog, c.arrivals, c.capacity, c.pause, 0.5, 30);
    EXPECT_NEAR(f.violationSeconds, c.violation, 1e-9) << c.name;
    EXPECT_NEAR(f.backlogAtHorizon, c.backlogAtHorizon, 1e-6) << c.name;
  }
}

TEST(SloPolicyTest, GroupCapacityFollowsTheBusiestReplica) {
  struct Case {
    int32_t replicas, partitions, healthy;
    double expected;
  };
  const std::vector<Case> cases = {
      {4, 12, 12, 4000},        {5, 12, 12, 4000},    // 5: two replicas hold 3 partitions
      {6, 12, 12, 6000},        {11, 12, 12, 6000},   // 7 to 11 add nothing over 6
      {12, 12, 12, 12000},      {20, 12, 12, 12000},  // past the partition count: idle
      {4, 12, 11, 11000.0 / 3}, {0, 12, 12, 0},      {1, 1, 1, 1000}, {3, 1, 1, 1000},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(groupCapacity(c.replicas, c.partitions, c.healthy, 1000), c.expected, 1e-9)
        << c.replicas << " replicas, " << c.partitions << " partitions, " << c.healthy
        << " healthy";
  }
}

TEST(SloPolicyTest, ShareGroupCapacityGrowsPastThePartitionCount) {
  // Past the partition count members share partitions: whole multiples count.
  EXPECT_NEAR(groupCapacity(24, 12, 12, 1000, true), 24000, 1e-9);
  EXPECT_NEAR(groupCapacity(20, 12, 12, 1000, true), 12000, 1e-9);  // 8 extra do not count
  EXPECT_NEAR(groupCapacity(12, 6, 6, 1000, true), 12000, 1e-9);
  EXPECT_NEAR(groupCapacity(11, 6, 6, 1000, true), 6000, 1e-9);
  EXPECT_NEAR(groupCapacity(12, 6, 5, 1000, true), 10000, 1e-9);  // 1 of 6 stuck
  // Below it, as a consumer group: the busiest member's partitions limit it.
  EXPECT_NEAR(groupCapacity(5, 12, 12, 1000, true), 4000, 1e-9);
  EXPECT_NEAR(groupCapacity(0, 12, 12, 1000, true), 0, 1e-9);
}

// A share group on 6 partitions under a load that needs 12 replicas: the policy asks for 12 (a
// consumer group stops at 6), and plans no rebalance pause (members share the partitions).
TEST(SloPolicyTest, AShareGroupScalesPastThePartitionCountWithoutAPause) {
  for (const bool share : {false, true}) {
    SloPolicy policy(exact());
    Feed feed(6, 2);
    feed.shareGroup = share;
    policy.decide(feed.observe());
    // 2 replicas consume 2.4k/s flat out (1.2k/s each) while 12k/s arrive.
    const Decision d = policy.decide(feed.advance(1, 12000, 2400));
    if (share) {
      // 12k/s at 1k/s planned per replica (12), and the 9,600 behind drained within 10 s at the
      // full rate: 12 x 1.2k = 14.4k/s covers 12k + 960/s. Nothing piles up during a pause.
      EXPECT_EQ(d.replicas, 12) << d.reason;
      EXPECT_TRUE(contains(d.reason, "drains 9,600 (lag; no rebalance in a share group)"))
          << d.reason;
    } else {
      EXPECT_EQ(d.replicas, 6) << d.reason;
      EXPECT_TRUE(contains(d.reason, "the partition count")) << d.reason;
    }
  }
}

TEST(SloPolicyTest, AShareGroupStopsAtMaxReplicas) {
  SloConfig config = exact();
  config.maxReplicas = 9;
  SloPolicy policy(config);
  Feed feed(6, 2);
  feed.shareGroup = true;
  policy.decide(feed.observe());
  const Decision d = policy.decide(feed.advance(1, 12000, 2400));
  EXPECT_EQ(d.replicas, 9) << d.reason;
  EXPECT_TRUE(contains(d.reason, "max-replicas")) << d.reason;
}

TEST(SloPolicyTest, TheFirstObservationIsABaseline) {
  SloPolicy policy(SloConfig{});
  Feed feed(12, 3);
  const Decision d = policy.decide(feed.observe());
  EXPECT_EQ(d.replicas, 3);
  EXPECT_TRUE(contains(d.reason, "first observation")) << d.reason;
}

// Each case: a baseline with `preload` messages waiting, then one second with `arrivals` produced
// and the replicas committing `consumed` (saturated when there was a backlog throughout), then the
// decision. Defaults: 500 ms objective, 20% headroom (a replica is planned at its rate / 1.2),
// 10 s drain, 3 s rebalance pause, 30 s horizon.
TEST(SloPolicyTest, SizesInOneStepAndWeighsTheRebalance) {
  struct Case {
    std::string name;
    int32_t partitions, replicas;
    double preload, arrivals, consumed;
    int32_t maxReplicas;
    int32_t expected;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      // 4 x 833 = 3.3k/s planned covers 3k/s: nothing to do.
      {"keeps a group that copes", 12, 4, 0, 3000, 3000, 0, 4, {"lag 0", "75% busy", "keep 4"}},
      // 4 replicas commit 4.8k/s with lag throughout: 1.2k/s each, planned at 1k/s. They cannot
      // drain 4,800. The change must serve 4.8k/s and drain 4,800 + 14,400 (the pause) in 10 s:
      // 6.7k/s. 6 replicas (4 of the 24 partitions each) do 7.2k/s; 5 (5 each) 5.8k/s.
      {"one step to the size needed",
       24,
       4,
       4800,
       4800,
       4800,
       0,
       6,
       {"lag 4,800", "arrival 4.8k/s", "(4 × 1.2k/s learnt)", "→ 6 replicas", "drains 19,200",
        "~9.5 s over the 500 ms objective in the next 30 s vs ~30 s if kept"}},
      // 24k/s against 2.4k/s: even 12 x 1.2k/s is short. Straight to the partition count.
      {"a 10x step goes straight to the partition count",
       12,
       2,
       0,
       24000,
       2400,
       0,
       12,
       {"lag 21,600", "(2 × 1.2k/s at least)", "→ 12 replicas", "capped at the partition count",
        "~30 s over the 500 ms objective in the next 30 s vs ~30 s if kept, with 352,800 behind at "
        "the end vs 669,600"}},
      // 6.6k/s is more than 6 replicas consume (6k/s); 7 to 11 give no more than 6 (the busiest
      // still holds 2 partitions), so the answer is 12, not a tolerance band short of it.
      {"past the N-1 trap", 12, 6, 0, 6600, 6000, 0, 12, {"lag 600", "→ 12 replicas"}},
      {"max-replicas caps", 12, 4, 0, 24000, 4800, 8, 8, {"→ 8 replicas", "max-replicas"}},
      // 4.32k/s is over 4 x 1k/s planned but under the 4.8k/s they consume: 1,200 behind, the wait
      // is under the objective and falls. 6 replicas would stop everything for 3 s to get headroom.
      {"not worth a rebalance",
       12,
       4,
       1680,
       4320,
       4800,
       0,
       4,
       {"lag 1,200", "6 replicas would add capacity", "3 s rebalance",
        "~6.7 s over the 500 ms objective vs ~0 ms if kept", "keep 4"}},
      // 12,000 behind at 480/s of surplus: kept, waits stay over the objective 20 s; 6 replicas
      // take 3 s of pause + 7.4 s of drain.
      {"a bigger backlog is worth the pause",
       12,
       4,
       12480,
       4320,
       4800,
       0,
       6,
       {"lag 12,000", "→ 6 replicas", "~10.4 s over the 500 ms objective", "~20 s if kept"}},
  };
  for (const Case& c : cases) {
    SloConfig config = exact();
    config.maxReplicas = c.maxReplicas;
    SloPolicy policy(config);
    Feed feed(c.partitions, c.replicas);
    feed.preload(c.preload);
    policy.decide(feed.observe());
    const Decision d = policy.decide(feed.advance(1, c.arrivals, c.consumed));
    EXPECT_EQ(d.replicas, c.expected) << c.name << ": " << d.reason;
    for (const std::string& fragment : c.fragments) {
      EXPECT_TRUE(contains(d.reason, fragment))
          << c.name << ": '" << fragment << "' not in " << d.reason;
    }
  }
}

TEST(SloPolicyTest, AfterScalingUpItHoldsWhileTheBacklogDrains) {
  SloPolicy policy(exact());
  Feed feed(12, 2);
  policy.decide(feed.observe());
  ASSERT_EQ(policy.decide(feed.advance(1, 24000, 2400)).replicas, 12);
  feed.replicas = 12;
  // The pause: nothing consumed for 3 s; then 14.4k/s (12 x 1.2k/s) against 24k/s arrivals.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(policy.decide(feed.advance(1, 24000, 0)).replicas, 12);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(policy.decide(feed.advance(1, 24000, 14400)).replicas, 12);
}

TEST(SloPolicyTest, ScalesInOnlyAfterTheDelayToTheLargestCountNeeded) {
  SloConfig config = exact();
  config.scaleInDelay = 60s;
  SloPolicy policy(config);
  Feed feed(12, 12);
  policy.decide(feed.observe());
  // 2k/s on 12 replicas: 3 would do (2k/s <= 3 x 833 planned; 2k/s + 600/s to drain a pause's
  // backlog <= 3 x 1k/s).
  std::vector<int32_t> answers;
  for (int t = 1; t <= 100; ++t) {
    const double arrivals = t == 30 ? 6000 : 2000;  // one busy second at 30 s
    const Decision d = policy.decide(feed.advance(1, arrivals, arrivals));
    answers.push_back(d.replicas);
    if (t == 20) {
      EXPECT_TRUE(contains(d.reason, "of the 60 s scale-in delay observed")) << d.reason;
    }
    if (t == 70) {
      EXPECT_TRUE(contains(d.reason, "12 were needed 40 s ago")) << d.reason;
    }
    if (t == 91) {
      EXPECT_TRUE(contains(d.reason, "still falling")) << d.reason;
    }
    if (d.replicas != feed.replicas) {
      // The busy second leaves the window at 91 s; at 92 s the window's largest has settled.
      EXPECT_EQ(t, 92) << d.reason;
      EXPECT_EQ(d.replicas, 3) << d.reason;
      EXPECT_TRUE(contains(d.reason, "→ 3 replicas (saves 9")) << d.reason;
      feed.replicas = d.replicas;
    }
  }
  EXPECT_EQ(answers[90], 12);  // t = 91 s
  EXPECT_EQ(answers.back(), 3);
}

TEST(SloPolicyTest, ScaleInHysteresisKeepsSmallSavings) {
  struct Case {
    double hysteresis;
    int32_t expected;
  };
  // 6 replicas on 12 partitions at 2k/s: 3 would do, saving 3 of 6 (50%).
  for (const Case& c : std::vector<Case>{{0.2, 3}, {0.5, 3}, {0.6, 6}}) {
    SloConfig config = exact();
    config.scaleInDelay = 10s;
    config.scaleInHysteresis = c.hysteresis;
    SloPolicy policy(config);
    Feed feed(12, 6);
    policy.decide(feed.observe());
    Decision d;
    for (int t = 1; t <= 11 && d.replicas != 3; ++t) d = policy.decide(feed.advance(1, 2000, 2000));
    EXPECT_EQ(d.replicas, c.expected) << c.hysteresis << ": " << d.reason;
    if (c.expected == 6) {
      EXPECT_TRUE(contains(d.reason, "saves 3 of 6 (< 60% hysteresis)")) << d.reason;
    }
  }
}

TEST(SloPolicyTest, OneScaleInPerDelay) {
  SloConfig config = exact();
  config.scaleInDelay = 10s;
  SloPolicy policy(config);
  Feed feed(12, 12);
  policy.decide(feed.observe());
  std::vector<std::pair<int, int32_t>> changes;
  for (int t = 1; t <= 40; ++t) {
    // 6k/s (12 needed) until 12 s, then 4k/s (6 needed: 4k/s <= 6 x 833), from 20 s 2k/s (3).
    const double arrivals = t <= 12 ? 6000 : t <= 20 ? 4000 : 2000;
    const Decision d = policy.decide(feed.advance(1, arrivals, arrivals));
    if (d.replicas != feed.replicas) {
      changes.emplace_back(t, d.replicas);
      feed.replicas = d.replicas;
    }
  }
  // Down to 6 once 12 has left the window; then not again until 10 s after that change.
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].second, 6);
  EXPECT_EQ(changes[1].second, 3);
  EXPECT_GE(changes[1].first - changes[0].first, 10);
}

TEST(SloPolicyTest, ReplicasPastThePartitionCountGoAtOnce) {
  SloPolicy policy(exact());
  Feed feed(4, 7);
  EXPECT_EQ(policy.decide(feed.observe()).replicas, 4);  // even the baseline caps
  feed.replicas = 7;
  const Decision d = policy.decide(feed.advance(1, 100, 100));
  EXPECT_EQ(d.replicas, 4);
  EXPECT_TRUE(contains(d.reason, "7 replicas > 4 partitions")) << d.reason;

  SloConfig floor = exact();
  floor.minReplicas = 2;
  SloPolicy raised(floor);
  Feed idle(4, 1);
  raised.decide(idle.observe());
  const Decision up = raised.decide(idle.advance(1, 0, 0));
  EXPECT_EQ(up.replicas, 2);
  EXPECT_TRUE(contains(up.reason, "min-replicas 2")) << up.reason;
}

TEST(SloPolicyTest, PersistentLagOnAStuckPartitionIsIgnored) {
  SloConfig config = exact();
  config.stuckAfter = 10s;
  config.scaleInDelay = 5min;  // this test is about scaling up
  SloPolicy policy(config);
  Feed feed(12, 6);
  policy.decide(feed.observe());
  feed.stuck = {5};
  // 3k/s: partition 5 piles up 250/s, 30,000 after 120 s; counted, that would need 6k/s more
  // than 6 x 833 = 5k/s. The other 11 partitions are consumed as they fill.
  Decision d;
  for (int t = 1; t <= 120; ++t) {
    d = policy.decide(feed.advance(1, 3000, 3000));
    ASSERT_EQ(d.replicas, 6) << "at " << t << " s: " << d.reason;
  }
  EXPECT_EQ(policy.estimate().stuckPartitions, std::vector<int32_t>{5});
  EXPECT_EQ(policy.estimate().backlog, 0);
  EXPECT_TRUE(contains(d.reason, "partition 5 stuck 2 min (lag 30,000, ignored)")) << d.reason;

  // Once it moves again it counts again.
  feed.stuck.clear();
  policy.decide(feed.advance(1, 3000, 3000));
  EXPECT_TRUE(policy.estimate().stuckPartitions.empty());
}

TEST(SloPolicyTest, AGroupThatStopsEverywhereIsNotStuck) {
  // No partition progresses (the consumers are down or paused): the lag is real work.
  SloConfig config = exact();
  config.stuckAfter = 5s;
  SloPolicy policy(config);
  Feed feed(12, 2);
  policy.decide(feed.observe());
  Decision d;
  for (int t = 1; t <= 20; ++t) d = policy.decide(feed.advance(1, 1200, 0));
  EXPECT_TRUE(policy.estimate().stuckPartitions.empty());
  EXPECT_EQ(policy.estimate().backlog, 24000);
  EXPECT_GT(d.replicas, 2) << d.reason;
}

TEST(SloPolicyTest, ServiceRateIsLearntOnlyWhenSaturated) {
  struct Step {
    double arrivals, consumed;
    int32_t replicas;
  };
  struct Case {
    std::string name;
    double preload;
    std::vector<Step> steps;
    double expected;
    bool learnt;
  };
  // Guess 1k/s per replica; 12 partitions.
  const std::vector<Case> cases = {
      // Lag throughout, 4 replicas commit 6k/s: 1.5k/s each.
      {"saturated", 12000, {{3000, 6000, 4}}, 1500, true},
      // No lag: 3k/s over 4 replicas says nothing about their limit; the guess stays.
      {"idle replicas", 0, {{3000, 3000, 4}}, 1000, false},
      // Not saturated, but 4 replicas did 6k/s: at least 1.5k/s each.
      {"a lower bound raises the guess", 0, {{6000, 6000, 4}}, 1500, false},
      // Saturated at 1.5k/s, then 2.1k/s: smoothed 0.3 of the way towards the new sample.
      {"smoothed", 60000, {{0, 6000, 4}, {0, 8400, 4}}, 1680, true},
      // The interval after a change in the count holds a rebalance pause: no sample.
      {"not across a rebalance", 60000, {{0, 6000, 4}, {0, 1000, 8}}, 1500, true},
  };
  for (const Case& c : cases) {
    SloConfig config = exact();
    config.maxReplicas = 4;  // no change of its own: the policy's changes also pause learning
    SloPolicy policy(config);
    Feed feed(12, c.steps.front().replicas);
    feed.preload(c.preload);
    policy.decide(feed.observe());
    for (const Step& s : c.steps) {
      feed.replicas = s.replicas;
      policy.decide(feed.advance(1, s.arrivals, s.consumed));
    }
    EXPECT_NEAR(policy.estimate().serviceRate, c.expected, 1e-6) << c.name;
    EXPECT_EQ(policy.estimate().serviceRateLearnt, c.learnt) << c.name;
  }
}

TEST(SloPolicyTest, HoltFollowsLevelAndTrend) {
  SloPolicy policy(SloConfig{});  // default smoothing 0.5, trend 0.3
  Feed feed(12, 12);
  policy.decide(feed.observe());
  for (int t = 1; t <= 30; ++t) policy.decide(feed.advance(1, 6000, 6000));
  EXPECT_NEAR(policy.estimate().arrivalRate, 6000, 1);
  EXPECT_NEAR(policy.estimate().arrivalTrend, 0, 1);
  // A ramp of +120 msg/s every second: the level keeps up and the trend is the slope.
  for (int t = 1; t <= 60; ++t) policy.decide(feed.advance(1, 6000 + 120 * t, 6000 + 120 * t));
  EXPECT_NEAR(policy.estimate().arrivalTrend, 120, 5);
  EXPECT_NEAR(policy.estimate().arrivalRate, 13200, 50);
}

TEST(SloPolicyTest, SettingsParseWithUnits) {
  const SloConfig config = SloConfig::fromSettings({{"objective", "250ms"},
                                                    {"interval", "2s"},
                                                    {"min-replicas", "2"},
                                                    {"max-replicas", "16"},
                                                    {"service-rate", "1500"},
                                                    {"smoothing", "0.7"},
                                                    {"trend-smoothing", "0"},
                                                    {"service-smoothing", "1"},
                                                    {"headroom", "0.5"},
                                                    {"drain", "1.5s"},
                                                    {"horizon", "60"},
                                                    {"rebalance-pause", "0ms"},
                                                    {"handoff-smoothing", "0.25"},
                                                    {"scale-in-delay", "5m"},
                                                    {"scale-in-hysteresis", "0"},
                                                    {"stuck-after", "1h"},
                                                    {"commit-interval", "5s"}});
  EXPECT_EQ(config.objective, 250ms);
  EXPECT_EQ(config.interval, 2s);
  EXPECT_EQ(config.minReplicas, 2);
  EXPECT_EQ(config.maxReplicas, 16);
  EXPECT_EQ(config.serviceRate, 1500);
  EXPECT_EQ(config.smoothing, 0.7);
  EXPECT_EQ(config.trendSmoothing, 0);
  EXPECT_EQ(config.serviceSmoothing, 1);
  EXPECT_EQ(config.headroom, 0.5);
  EXPECT_EQ(config.drain, 1500ms);
  EXPECT_EQ(config.horizon, 60s);
  EXPECT_EQ(config.rebalancePause, 0ms);
  EXPECT_EQ(config.handoffSmoothing, 0.25);
  EXPECT_EQ(config.scaleInDelay, 300s);
  EXPECT_EQ(config.scaleInHysteresis, 0);
  EXPECT_EQ(config.stuckAfter, 3600s);
  EXPECT_EQ(config.commitInterval, 5s);
  EXPECT_EQ(SloConfig::fromSettings({}).objective, SloConfig{}.objective);
  EXPECT_EQ(SloConfig::fromSettings({}).handoffSmoothing, 0.5);
  EXPECT_EQ(SloConfig::settingKeys().size(), 17u);
}

TEST(SloPolicyTest, BadSettingsNameTheKeyAndWhatIsAccepted) {
  struct Case {
    std::map<std::string, std::string> settings;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {{{"objectve", "500ms"}},
       {"slo setting 'objectve' is unknown", "objective, interval", "handoff-smoothing"}},
      {{{"objective", "5x"}}, {"objective='5x'", "500ms, 15s, 5m or 1h"}},
      {{{"objective", "fast"}}, {"objective='fast'", "a bare number is seconds"}},
      {{{"objective", "-1s"}}, {"objective='-1s'"}},
      {{{"objective", "0ms"}}, {"'objective'", "more than 0"}},
      {{{"interval", "2 s"}}, {"interval='2 s'"}},
      {{{"min-replicas", "-1"}}, {"min-replicas='-1'", "an integer in [0, "}},
      {{{"min-replicas", "1.5"}}, {"min-replicas='1.5'", "not a whole number"}},
      {{{"min-replicas", "3"}, {"max-replicas", "2"}}, {"'max-replicas'", ">= min-replicas (3)"}},
      {{{"service-rate", "0"}}, {"'service-rate'", "more than 0"}},
      {{{"service-rate", "lots"}}, {"service-rate='lots'", "not a number"}},
      {{{"smoothing", "0"}}, {"'smoothing'", "(0, 1]"}},
      {{{"trend-smoothing", "1.5"}}, {"trend-smoothing='1.5'", "[0, 1]"}},
      {{{"headroom", "-0.1"}}, {"headroom='-0.1'", "[0, 10]"}},
      {{{"scale-in-hysteresis", "1"}}, {"'scale-in-hysteresis'", "[0, 1)"}},
      {{{"stuck-after", "500ms"}}, {"'stuck-after'", "at least the interval"}},
      {{{"commit-interval", "1m"}}, {"'stuck-after'", "commit interval (60000 ms)"}},
      {{{"commit-interval", "1 s"}}, {"commit-interval='1 s'"}},
      {{{"rebalance-pause", "soon"}}, {"rebalance-pause='soon'", "500ms"}},
      {{{"handoff-smoothing", "0"}}, {"'handoff-smoothing'", "(0, 1]"}},
      {{{"handoff-smoothing", "1.5"}}, {"handoff-smoothing='1.5'", "[0, 1]"}},
      {{{"handoff-smoothing", "-0.5"}}, {"handoff-smoothing='-0.5'", "[0, 1]"}},
      {{{"handoff-smoothing", "half"}}, {"handoff-smoothing='half'", "not a number"}},
  };
  for (const Case& c : cases) {
    try {
      SloConfig::fromSettings(c.settings);
      ADD_FAILURE() << c.settings.begin()->first << "=" << c.settings.begin()->second
                    << " accepted";
    } catch (const std::invalid_argument& e) {
      for (const std::string& fragment : c.fragments) {
        EXPECT_TRUE(contains(e.what(), fragment)) << "'" << fragment << "' not in " << e.what();
      }
    }
  }
  SloConfig direct;
  direct.headroom = 11;
  EXPECT_THROW(SloPolicy{direct}, std::invalid_argument);
  SloConfig noSmoothing;
  noSmoothing.handoffSmoothing = 0;
  EXPECT_THROW(SloPolicy{noSmoothing}, std::invalid_argument);
}

// The "one step to the size needed" case above: 24 partitions, 4 replicas saturated at 1.2k/s,
// 4,800 behind and 4.8k/s arriving. The change must drain the lag and what its own pause adds.
Decision oneStepUp(SloPolicy& policy, std::optional<double> handoff) {
  Feed feed(24, 4);
  feed.preload(4800);
  policy.decide(feed.observe());
  Observation o = feed.advance(1, 4800, 4800);
  o.handoffSeconds = handoff;
  return policy.decide(o);
}

TEST(SloPolicyTest, RebalancePauseIsThePriorUntilAHandoffIsMeasured) {
  SloPolicy policy(exact());
  EXPECT_EQ(policy.estimate().handoffSeconds, 3);
  EXPECT_FALSE(policy.estimate().handoffLearnt);
  // 4,800 + 3 s x 4.8k/s to drain: 6 replicas.
  const Decision d = oneStepUp(policy, std::nullopt);
  EXPECT_EQ(d.replicas, 6) << d.reason;
  EXPECT_TRUE(contains(d.reason, "drains 19,200 (lag + 3 s rebalance)")) << d.reason;
  EXPECT_TRUE(contains(d.reason, "rebalance pause 3 s assumed")) << d.reason;
  EXPECT_EQ(policy.estimate().handoffSeconds, 3);
  EXPECT_FALSE(policy.estimate().handoffLearnt);
}

TEST(SloPolicyTest, AMeasuredHandoffReplacesThePriorInThePlan) {
  SloPolicy policy(exact());
  // 4,800 + 1 s x 4.8k/s: 5 replicas (4.8k/s planned, 5.76k/s to drain 9,600 in 10 s) suffice.
  const Decision d = oneStepUp(policy, 1.0);
  EXPECT_EQ(d.replicas, 5) << d.reason;
  EXPECT_TRUE(contains(d.reason, "drains 9,600 (lag + 1 s rebalance)")) << d.reason;
  EXPECT_TRUE(contains(d.reason, "handoff 1 s measured")) << d.reason;
  EXPECT_FALSE(contains(d.reason, "assumed")) << d.reason;
}

TEST(SloPolicyTest, HandoffSamplesMoveTheEstimateByTheSmoothingWeight) {
  SloConfig config = exact();
  config.handoffSmoothing = 0.25;
  SloPolicy policy(config);
  Feed feed(12, 4);
  struct Step {
    std::optional<double> sample;
    double expected;
  };
  // The first sample replaces the 3 s prior; later ones move it a quarter of the way; an absent
  // or impossible sample leaves it.
  const std::vector<Step> steps = {
      {1.0, 1.0}, {3.0, 1.5}, {std::nullopt, 1.5}, {0.5, 1.25}, {-1.0, 1.25}, {NAN, 1.25},
  };
  bool first = true;
  for (const Step& step : steps) {
    Observation o = first ? feed.observe() : feed.advance(1, 1000, 1000);
    first = false;
    o.handoffSeconds = step.sample;
    policy.decide(o);
    EXPECT_DOUBLE_EQ(policy.estimate().handoffSeconds, step.expected);
    EXPECT_TRUE(policy.estimate().handoffLearnt);
  }
}

TEST(SloPolicyTest, ScalesInOnlyWhenTheMeasuredHandoffFitsTheObjective) {
  struct Case {
    std::string name;
    std::optional<double> handoff;
    int32_t expected;
    std::vector<std::string> fragments;
  };
  // 6 replicas on 12 partitions at 2k/s: 3 would do. During a handoff of p seconds to 3 replicas
  // (3k/s) a message arriving at once waits p: a 2 s handoff puts 2 s of arrivals over the 500 ms
  // objective and 2.5 s more while 3 replicas work off the 4,000 it left behind.
  const std::vector<Case> cases = {
      {"prior", std::nullopt, 3, {"→ 3 replicas (saves 3", "rebalance pause 3 s assumed"}},
      {"short handoff",
       0.2,
       3,
       {"→ 3 replicas (saves 3", "the 200 ms rebalance costs ~0 ms", "handoff 200 ms measured"}},
      {"long handoff",
       2.0,
       6,
       {"at most 3 needed for the last 10 s, but with 3 the handoff 2 s measured puts ~4.5 s over "
        "the 500 ms objective → keep 6"}},
  };
  for (const Case& c : cases) {
    SloConfig config = exact();
    config.scaleInDelay = 10s;
    SloPolicy policy(config);
    Feed feed(12, 6);
    Observation start = feed.observe();
    start.handoffSeconds = c.handoff;
    policy.decide(start);
    Decision d;
    for (int t = 1; t <= 20 && d.replicas != 3; ++t) d = policy.decide(feed.advance(1, 2000, 2000));
    EXPECT_EQ(d.replicas, c.expected) << c.name << ": " << d.reason;
    for (const std::string& fragment : c.fragments) {
      EXPECT_TRUE(contains(d.reason, fragment))
          << c.name << ": '" << fragment << "' not in " << d.reason;
    }
  }
}

TEST(SloPolicyTest, AnIdleGroupIsNotLateDuringAPause) {
  // Nothing waits and nothing arrives: a pause makes no message late.
  EXPECT_EQ(forecast(0, 0, 1000, 3, 0.5, 30).violationSeconds, 0);
  EXPECT_NEAR(forecast(0, 1, 1000, 3, 0.5, 30).violationSeconds, 2.5 / (1 - 0.001), 1e-9);
}

}  // namespace
}  // namespace ebb::scale
